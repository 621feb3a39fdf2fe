"""Testing a host before it is saved: log in with the key chosen in the editor (its host key
read and confirmed by then) and run one check (system metrics and Docker). No Qt here."""

from __future__ import annotations

import asyncio
import os

from vpshealth.app import Core
from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.ssh_keys import ClientCredentials
from vpshealth.domain.health import CheckResult, Problem
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.engine.credentials import GivenCredentials


def credentials_for(
    auth: AuthMethod, private_key: str | None, passphrase: str | None
) -> ClientCredentials:
    if auth is AuthMethod.AGENT:
        agent = os.environ.get("SSH_AUTH_SOCK")
        if not agent:
            raise CollectionError(
                Problem.KEY_MISSING, "no SSH agent is running here (SSH_AUTH_SOCK is not set)"
            )
        return ClientCredentials(agent_path=agent)
    if not private_key:
        raise CollectionError(Problem.KEY_MISSING, "choose a login key first")
    return ClientCredentials(private_key=private_key, passphrase=passphrase or None)


async def check_with(core: Core, host: Host, credentials: ClientCredentials) -> CheckResult:
    """One check of ``host`` (whose host key must be pinned) with the given credentials,
    against the stored default rules."""
    defaults = (await asyncio.to_thread(core.rule_book)).rules(None)
    poller = core.make_poller(
        None, host, lambda: defaults, credentials=GivenCredentials(credentials)
    )
    try:
        return await poller.poll()
    finally:
        await poller.close()


ADVICE = {
    Problem.UNREACHABLE: "Check the address and port, and that a firewall lets SSH through "
    "from this computer.",
    Problem.TIMEOUT: "The server did not answer in time. Check the address, the port and any "
    "firewall on the way.",
    Problem.AUTH_FAILED: "The server refused the key. Add the public key to "
    "~/.ssh/authorized_keys of this user on the server, or choose another key.",
    Problem.HOST_KEY_MISMATCH: "The server's host key changed. If the server was rebuilt, "
    "test again and trust the new key.",
    Problem.HOST_KEY_NOT_TRUSTED: "Trust the server's host key first.",
    Problem.KEY_MISSING: "Choose a login key: import one, generate one or use the SSH agent.",
    Problem.DOCKER_PERMISSION_DENIED: "Add this user to the docker group on the server "
    "(usermod -aG docker USER), or log in as root.",
}


def result_text(result: CheckResult) -> tuple[bool, str]:
    """(success, what to tell the user) for one test check."""
    if result.metrics is None:
        advice = ADVICE.get(result.problem, "") if result.problem else ""
        return False, f"Connection failed: {result.message}. {advice}".strip()
    lines = ["Reachable, login OK."]
    docker = result.docker
    if docker is not None and docker.containers is not None:
        running = sum(v.container.state.value == "running" for v in docker.containers)
        lines.append(f"Docker found ({len(docker.containers)} containers, {running} running).")
    elif docker is not None and docker.message:
        advice = ADVICE.get(result.problem, "") if result.problem else ""
        lines.append(f"Docker: {docker.message}. {advice}".strip())
    else:
        lines.append("Docker not found on this server (that is fine if it runs none).")
    lines.append(f"Current state: {result.state.value} — {result.message}.")
    return True, " ".join(lines)

"""Opening a session with a node. ssh://: one SSH connection (the node's pinned host key, the
login key from the secret store) and a local port forward to the API on the node's loopback;
the listener is on this computer's loopback only, and nothing is opened on the node.
https://: a plain client that verifies TLS (plus an optional CA file)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncssh
import httpx

from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.ssh import SshConnection, SshOptions
from vpshealth.collectors.ssh_keys import ClientCredentials
from vpshealth.domain.health import Problem
from vpshealth.domain.hosts import AuthMethod
from vpshealth.secrets import SecretStore, passphrase_ref
from vpshealth.sync.node_link import NodeLink
from vpshealth.sync.node_session import NodeError, NodeProblem, NodeSession

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class SessionOptions:
    connect_timeout: float = 10.0
    request_timeout: float = 30.0
    keepalive_interval: float = 30.0
    keepalive_count_max: int = 3


@contextlib.asynccontextmanager
async def open_node_session(
    link: NodeLink,
    secrets: SecretStore,
    options: SessionOptions | None = None,
    *,
    token: str | None = None,
    credentials: ClientCredentials | None = None,
) -> AsyncIterator[NodeSession]:
    """``token`` and ``credentials``: use these instead of the stored ones (to check them
    before they are saved).
    Raises NodeError (unreachable, host key changed, login refused, ...) or
    KeyringUnavailableError."""
    options = options or SessionOptions()
    if token is None:
        token = await asyncio.to_thread(secrets.get, link.token_ref)
        if not token:
            raise NodeError(
                NodeProblem.TOKEN_REFUSED,
                f"the token of {link.name} is not in {secrets.where} any more: run "
                "`vpshealth node connect ... --token-stdin` again.",
            )
    headers = {"Authorization": f"Bearer {token}"}
    timeout = httpx.Timeout(options.request_timeout, connect=options.connect_timeout)
    if link.address.is_ssh:
        if credentials is None:
            credentials = await asyncio.to_thread(_credentials, link, secrets)
        async with _tunnel(link, credentials, options) as (port, ssh_lost):
            base = f"http://{LOOPBACK}:{port}"
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout) as c:
                yield NodeSession(
                    c, link.name, f"ws://{LOOPBACK}:{port}", link.address.api_port, ssh_lost
                )
        return
    url = link.address.api_url
    verify = await asyncio.to_thread(_tls_context, link) if url.startswith("https:") else True
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=timeout, verify=verify
    ) as client:
        ws_base = "wss" + url.removeprefix("https") if url.startswith("https:") else "ws" + url[4:]
        yield NodeSession(client, link.name, ws_base, link.address.api_port)


def _tls_context(link: NodeLink) -> ssl.SSLContext:
    """The system's trusted CAs, plus the link's CA file."""
    context = ssl.create_default_context()
    if link.ca_file is not None:
        try:
            context.load_verify_locations(cafile=link.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise NodeError(
                NodeProblem.TLS,
                f"cannot read the CA file {link.ca_file} of {link.name} ({exc}): give a PEM "
                "certificate with --ca-file.",
            ) from None
    return context


@contextlib.asynccontextmanager
async def _tunnel(
    link: NodeLink, credentials: ClientCredentials, options: SessionOptions
) -> AsyncIterator[tuple[int, Callable[[], bool]]]:
    """The local port that reaches the API on the node's loopback, and whether the SSH
    connection has closed since."""
    ssh = SshConnection(
        link.ssh_host(),
        credentials,
        SshOptions(
            connect_timeout=options.connect_timeout,
            command_timeout=options.request_timeout,
            keepalive_interval=options.keepalive_interval,
            keepalive_count_max=options.keepalive_count_max,
        ),
    )
    try:
        try:
            conn = await ssh.connect()
        except CollectionError as exc:
            raise _ssh_refusal(link, exc) from None
        try:
            listener = await conn.forward_local_port(LOOPBACK, 0, LOOPBACK, link.address.api_port)
        except (asyncssh.Error, OSError) as exc:
            raise NodeError(
                NodeProblem.UNREACHABLE,
                f"{link.name}: cannot open the local end of the tunnel ({exc}).",
            ) from None
        try:
            yield listener.get_port(), conn.is_closed
        finally:
            listener.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await listener.wait_closed()
    finally:
        await ssh.close()


def _credentials(link: NodeLink, secrets: SecretStore) -> ClientCredentials:
    if link.auth is AuthMethod.AGENT:
        agent = os.environ.get("SSH_AUTH_SOCK")
        if not agent:
            raise NodeError(
                NodeProblem.KEY_MISSING,
                f"{link.name} logs in with the SSH agent, but no agent runs here "
                "(SSH_AUTH_SOCK is not set): start one with `eval $(ssh-agent)` and `ssh-add`.",
            )
        return ClientCredentials(agent_path=agent)
    private_key = secrets.get(link.key_ref) if link.key_ref else None
    if not private_key or link.key_ref is None:
        raise NodeError(
            NodeProblem.KEY_MISSING,
            f"the SSH key of {link.name} is not in {secrets.where}: run `vpshealth node "
            "connect ... --key-file FILE` (or --generate-key, or --agent) again.",
        )
    passphrase = secrets.get(passphrase_ref(link.key_ref))
    return ClientCredentials(private_key=private_key, passphrase=passphrase)


def _ssh_refusal(link: NodeLink, exc: CollectionError) -> NodeError:
    """The collector's error, worded for the node: re-trusting is `vpshealth node connect`."""
    address = link.address
    again = f"`vpshealth node connect {address.text} --trust-host-key ...` again"
    where = link.name
    if exc.problem is Problem.HOST_KEY_MISMATCH:
        return NodeError(
            NodeProblem.HOST_KEY_CHANGED,
            f"the host key of {where} has CHANGED since it was trusted; nothing was sent. If "
            f"the node was rebuilt, check the new fingerprint and run {again}; otherwise "
            "someone may be intercepting the connection.",
        )
    if exc.problem is Problem.HOST_KEY_NOT_TRUSTED:
        return NodeError(
            NodeProblem.HOST_KEY_NOT_TRUSTED,
            f"{where} has no trusted host key; run {again}.",
        )
    if exc.problem is Problem.AUTH_FAILED:
        user = address.user or "root"
        return NodeError(
            NodeProblem.LOGIN_REFUSED,
            f"{where} refused the SSH login as '{user}': check that the public key is in "
            f"~{user}/.ssh/authorized_keys on the node.",
        )
    problem = (
        NodeProblem.KEY_MISSING if exc.problem is Problem.KEY_MISSING else NodeProblem.UNREACHABLE
    )
    host = link.ssh_host()
    message = exc.message.replace(f"{host.name} ({host.display_address})", where)
    return NodeError(problem, message if message.endswith((".", "?")) else f"{message}.")

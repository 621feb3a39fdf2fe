"""End to end with the real sshd, dockerd and SMTP server: a Coolify app that crash-loops is one
e-mail naming the server and the app, and fixing it is one recovery e-mail."""

from __future__ import annotations

import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.coolify import APP, app_labels
from tests.integration.support.dockerd import DockerEngine
from tests.integration.support.service import (
    good_checks,
    start_service,
    stop_service,
    wait_for,
)
from tests.integration.support.smtp import SmtpServerFactory
from tests.integration.support.sshd import SshServer

# Its waits add up to ~4.5 min on a busy machine: more than the suite's 120 s default.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(360)]

INTERVAL = 5
BATCH = 15
LOOPING = f"{APP}-101512345678"
REDEPLOYED = f"{APP}-142233654321"
"""Coolify names each deploy's container ``{uuid}-{Hisu}``: the fix is a new container."""


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_crash_looping_app_is_one_e_mail_and_its_fix_one_more(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    server = smtp_server()
    steps = [
        ("notify", "email", "--smtp-host", server.host, "--smtp-port", str(server.port),
         "--security", "none", "--from", "vps@example.com", "--to", "me@example.com",
         "--batch-seconds", str(BATCH)),
        ("host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
         "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
         "--trust-host-key", "--interval", str(INTERVAL),
         "--docker-socket", docker_scenario.socket_path),
        ("rules", "--set", "load.warning=1000", "--set", "load.critical=1000"),
    ]  # fmt: skip
    for step in steps:
        done = run_cli(*step, env=env)
        assert done.returncode == 0, done.stderr

    proc = start_service(env)
    try:
        wait_for("two good checks of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        docker_scenario.run_crash_loop(LOOPING, labels=app_labels(LOOPING))
        # within one check interval plus the batching window (and slack for a busy machine)
        wait_for("the restart-loop e-mail", lambda: len(server.messages) >= 1, 90)

        # the fixed redeploy, as Coolify does it: the new container first, then the old removed
        # (removing it with nothing of the app running would leave the loop open: Coolify's
        # restart limit, tests/integration/test_container_lifecycle.py)
        docker_scenario.run_sleeper(REDEPLOYED, labels=app_labels(REDEPLOYED))  # the fix
        docker_scenario.remove(LOOPING)
        wait_for("the recovery e-mail", lambda: len(server.messages) >= 2, 120)
        time.sleep(BATCH + 2 * INTERVAL)  # room for any further e-mail to (wrongly) arrive
    finally:
        code, err = stop_service(proc)
    assert code == 0, err

    messages = [r.message for r in server.messages]
    assert len(messages) == 2, [m["Subject"] for m in messages]
    loop, recovery = messages
    assert loop["Subject"].startswith("[VPS Health] CRITICAL"), loop["Subject"]
    assert "web1" in loop["Subject"]
    assert "restart loop" in loop["Subject"]
    assert "shop / production / web" in loop["Subject"]
    text = _text(loop)
    assert f"web1 ({ssh_server.host}" in text
    assert "shop / production / web" in text
    assert "Since:" in text
    assert recovery["Subject"].startswith("[VPS Health] RESOLVED web1: "), recovery["Subject"]
    assert "restart loop of shop / production / web" in recovery["Subject"]
    assert "was removed" in _text(recovery)

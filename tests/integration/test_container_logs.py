"""End to end with the real sshd, dockerd, service and SMTP server: a container that prints a
few lines and exits 3 opens a crash that carries those lines, in `incidents --show` and in the
e-mail; with the rule `containers.logs=off` neither has them. A restart loop shows the lines of
one run, not of all runs so far."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.dockerd import IMAGE, DockerEngine
from tests.integration.support.service import good_checks, start_service, stop_service, wait_for
from tests.integration.support.smtp import SmtpServerFactory
from tests.integration.support.sshd import SshServer

pytestmark = pytest.mark.integration

INTERVAL = 5
BATCH = 5
SCRIPT = (
    "echo starting web; sleep 12; echo 'error: database db:5432 unreachable' >&2; "
    "echo 'fatal: giving up'; exit 3"
)


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


def _body(message: EmailMessage, kind: str) -> str:
    body = message.get_body((kind,))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def _crash(
    logs: str,
    ssh_server: SshServer,
    docker: DockerEngine,
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    env: dict[str, str],
    home: Path,
) -> tuple[str, EmailMessage]:
    server = smtp_server()
    steps = [
        ("notify", "email", "--smtp-host", server.host, "--smtp-port", str(server.port),
         "--security", "none", "--from", "vps@example.com", "--to", "me@example.com",
         "--batch-seconds", str(BATCH)),
        ("host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
         "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
         "--trust-host-key", "--interval", str(INTERVAL),
         "--docker-socket", docker.socket_path),
        ("rules", "--set", "load.warning=1000", "--set", "load.critical=1000",
         "--set", f"containers.logs={logs}"),
    ]  # fmt: skip
    for step in steps:
        done = run_cli(*step, env=env)
        assert done.returncode == 0, done.stderr

    proc = start_service(env)
    try:
        wait_for("two good checks of web1", lambda: good_checks(home, "web1") >= 2, 40)
        docker.ensure_image()
        docker.docker("run", "-d", "--name", "api", IMAGE, "sh", "-c", SCRIPT)
        wait_for("the crash e-mail", lambda: len(server.messages) >= 1, 90)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err

    listed = run_cli("incidents", "--json", env=env)
    crashes = [i for i in json.loads(listed.stdout)["incidents"] if i["rule"] == "crashed"]
    assert len(crashes) == 1, listed.stdout
    shown = run_cli("incidents", "--show", str(crashes[0]["id"]), env=env)
    assert shown.returncode in (0, 1), shown.stderr
    assert "  Rule:          crashed\n" in shown.stdout
    return shown.stdout, server.messages[0].message


def test_a_crash_carries_the_containers_last_lines_to_the_incident_and_the_e_mail(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    shown, mail = _crash(
        "on", ssh_server, docker_scenario, smtp_server, run_cli, env, vpshealth_home
    )
    assert shown.endswith(
        "  Last log lines:\n    starting web\n    error: database db:5432 unreachable\n"
        "    fatal: giving up\n"
    ) or shown.endswith(
        "  Last log lines:\n    starting web\n    fatal: giving up\n"
        "    error: database db:5432 unreachable\n"
    ), shown  # the engine does not order stdout against stderr written in the same instant
    assert "crashed" in mail["Subject"], mail["Subject"]
    text = _body(mail, "plain")
    assert "  Last log lines:\n    starting web\n" in text
    assert "    fatal: giving up\n" in text
    html = _body(mail, "html")
    assert '<pre style="font-family: monospace;' in html
    assert "error: database db:5432 unreachable" in html


def test_with_containers_logs_off_no_lines_are_read_or_sent(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    shown, mail = _crash(
        "off", ssh_server, docker_scenario, smtp_server, run_cli, env, vpshealth_home
    )
    assert "Last log lines" not in shown
    assert "giving up" not in shown
    assert "crashed" in mail["Subject"], mail["Subject"]
    assert "giving up" not in _body(mail, "plain")
    assert "<pre" not in _body(mail, "html")


LOOP_SCRIPT = (
    "n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /tmp/n; "
    'echo "run $n starting"; sleep 1; echo "run $n failed" >&2; exit 3'
)


def test_a_restart_loop_shows_the_lines_of_one_run(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    steps = [
        ("host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
         "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
         "--trust-host-key", "--interval", str(INTERVAL),
         "--docker-socket", docker_scenario.socket_path),
        ("rules", "--set", "load.warning=1000", "--set", "load.critical=1000"),
    ]  # fmt: skip
    for step in steps:
        done = run_cli(*step, env=env)
        assert done.returncode == 0, done.stderr

    def loop_incident() -> dict[str, Any] | None:
        listed = json.loads(run_cli("incidents", "--json", env=env).stdout)["incidents"]
        return next((i for i in listed if i["rule"] == "restart_loop"), None)

    proc = start_service(env)
    try:
        wait_for("two good checks of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        docker_scenario.ensure_image()
        docker_scenario.docker(
            "run", "-d", "--name", "api", "--restart=always", IMAGE, "sh", "-c", LOOP_SCRIPT
        )
        wait_for("the restart loop", loop_incident, 90)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err

    found = loop_incident()
    assert found is not None
    lines = found["log_lines"]
    match = re.fullmatch(r"run (\d+) starting\nrun \1 failed", lines or "")
    assert match is not None, lines
    assert int(match.group(1)) >= 2, "a run after the first crash"

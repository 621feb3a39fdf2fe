"""Taking over from a silent node, end to end, with real processes: a node (`vpshealth
service --api`) checking a real sshd test host (web1) with e-mail to the test SMTP server,
and a desktop (`vpshealth node follow`, its own home, `node take-over on`, its own e-mail to
the same server) connected to the node through a second sshd's tunnel. web1 logs in with
the real ssh-agent on both.

The node is stopped (SIGSTOP) past the silence alarm: the desktop takes over; web1's sshd is
killed: the desktop e-mails the incident. SIGCONT: the desktop hands back, and the node, which
opens the same incident itself, does not e-mail it again: one e-mail for its opening across
both."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.support.api import api_node
from tests.integration.support.cli import RunCli
from tests.integration.support.service import good_checks, wait_for
from tests.integration.support.smtp import SmtpServer, SmtpServerFactory
from tests.integration.support.ssh_agent import ssh_agent
from tests.integration.support.sshd import SshServer
from tests.integration.test_node_link import api_port, ssh_connect
from tests.integration.test_sync_end_to_end import Follow, follow, follower_log, shown, synced

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

__all__ = ["follow", "follower_log"]  # the fixtures this test uses from the end-to-end test

INTERVAL = 5
SILENCE_ALARM = 5
STALL_HOLD = 45


@pytest.fixture
def checked_server() -> Iterator[SshServer]:
    """The server both check (the other sshd carries the desktop's tunnel to the node)."""
    server = SshServer.create()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def agent_sock(tmp_path: Path, checked_server: SshServer) -> Iterator[str]:
    folder = tmp_path / "agent"
    folder.mkdir()
    with ssh_agent(folder, checked_server.client_key_path) as sock:
        yield sock


@pytest.fixture
def node_env(cli_env: dict[str, str], agent_sock: str) -> dict[str, str]:
    return {
        **cli_env,
        "SSH_AUTH_SOCK": agent_sock,
        "VPSHEALTH_CONNECT_TIMEOUT": "3",
        "VPSHEALTH_COMMAND_TIMEOUT": "5",
        "VPSHEALTH_NODE_STALL_HOLD_SECONDS": str(STALL_HOLD),
    }


@pytest.fixture
def desktop_env(cli_env: dict[str, str], tmp_path: Path, agent_sock: str) -> dict[str, str]:
    home = tmp_path / "desktop-home"
    home.mkdir()
    return {
        **cli_env,
        "VPSHEALTH_HOME": str(home),
        "SSH_AUTH_SOCK": agent_sock,
        "VPSHEALTH_CONNECT_TIMEOUT": "3",
        "VPSHEALTH_COMMAND_TIMEOUT": "5",
        "VPSHEALTH_NODE_SILENCE_ALARM_SECONDS": str(SILENCE_ALARM),
    }


def _email(run_cli: RunCli, env: dict[str, str], smtp: SmtpServer, sender: str) -> None:
    done = run_cli(
        "notify", "email", "--smtp-host", smtp.host, "--smtp-port", str(smtp.port),
        "--security", "none", "--from", sender, "--to", "me@example.com",
        "--batch-seconds", "0", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _subjects(smtp: SmtpServer) -> list[tuple[str, str]]:
    return [(r.message["From"], r.message["Subject"]) for r in smtp.messages]


def test_the_desktop_takes_over_and_hands_back_without_a_second_e_mail(
    ssh_server: SshServer,
    checked_server: SshServer,
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    node_env: dict[str, str],
    desktop_env: dict[str, str],
    vpshealth_home: Path,
    follow: Follow,
    follower_log: Path,
) -> None:
    smtp = smtp_server()
    _email(run_cli, node_env, smtp, "node@example.com")
    steps = [
        ("host", "add", "web1", "--address", checked_server.host,
         "--port", str(checked_server.port), "--user", checked_server.user, "--agent",
         "--trust-host-key", "--interval", str(INTERVAL)),
        ("rules", "--set", "load.warning=1000", "--set", "load.critical=1000"),
        ("rules", "web1", "--set", "unreachable.polls=1"),
    ]  # fmt: skip
    for step in steps:
        done = run_cli(*step, env=node_env)
        assert done.returncode == 0, done.stderr
    _email(run_cli, desktop_env, smtp, "desktop@example.com")
    taking_over = run_cli("node", "take-over", "on", env=desktop_env)
    assert taking_over.returncode == 0, taking_over.stderr
    assert taking_over.stdout.startswith("Take over: on: "), taking_over.stdout
    node_db = vpshealth_home / "data" / "vpshealth.sqlite3"
    desktop_data = Path(desktop_env["VPSHEALTH_HOME"]) / "data"
    takeover_db = desktop_data / "takeover.sqlite3"

    with api_node(node_env) as node:
        connected = ssh_connect(run_cli, desktop_env, ssh_server, api_port(node.url), node.token)
        assert connected.returncode == 0, connected.stderr
        status = run_cli("node", "status", "--no-check", env=desktop_env)
        assert "Take over:  on: " in status.stdout, status.stdout
        wait_for("two good checks of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        desktop = follow()
        wait_for(
            "the follower's first catch-up", lambda: synced(desktop_data / "node-copy.sqlite3"), 30
        )

        node.proc.send_signal(signal.SIGSTOP)
        try:
            wait_for(
                "the desktop taking over",
                lambda: any(
                    "this computer checks 1 of 2 servers until it is back" in line
                    for line in shown(follower_log)
                ),
                60,
            )
            wait_for(
                "a good check by the desktop",
                lambda: _rows(takeover_db, "SELECT 1 FROM checks WHERE state = 'ok'"),
                30,
            )
            checked_server.kill()
            wait_for("the desktop's e-mail", lambda: len(smtp.messages) >= 1, 60)
        finally:
            node.proc.send_signal(signal.SIGCONT)
        wait_for(
            "the hand-back",
            lambda: any("the node is back: it runs the checks again" in line
                        for line in shown(follower_log)),
            90,
        )  # fmt: skip
        opened_on_node = "SELECT last_notified_at FROM incidents WHERE kind = 'unreachable'"
        wait_for("the node's own incident", lambda: _rows(node_db, opened_on_node), 60)
        time.sleep(STALL_HOLD + 10)  # the node's hold is over: it would have e-mailed by now
        assert desktop.poll() is None, follower_log.read_text()
    mails = _subjects(smtp)
    opened = [m for m in mails if "CRITICAL web1" in m[1]]
    assert len(opened) == 1, mails
    assert "<desktop@example.com>" in opened[0][0], mails
    assert all(told is not None for (told,) in _rows(node_db, opened_on_node))
    handed = _rows(takeover_db, "SELECT resolved_at FROM incidents WHERE kind = 'unreachable'")
    assert handed == [(None,)], handed

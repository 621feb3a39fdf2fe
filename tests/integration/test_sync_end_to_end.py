"""One sender of alerts, end to end, with real processes: a node (`vpshealth service --api`)
watching the real sshd and dockerd with e-mail to the test SMTP server, and a desktop
(`vpshealth node follow`, its own home) connected to it through the SSH tunnel.

(a) The desktop asleep (SIGSTOP) while a Coolify app crash-loops and is fixed on the node:
after SIGCONT the copy equals the node row by row, the desktop showed each of the node's
notifications once (or one summary), and the SMTP server got one e-mail per incident
transition, from the node only.
(b) The node stopped (SIGSTOP) longer than the silence alarm: one "silent" notification, one
"back" after SIGCONT, and the copy equal again."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.support.api import api_node
from tests.integration.support.cli import RunCli
from tests.integration.support.coolify import APP, app_labels
from tests.integration.support.dockerd import DockerEngine
from tests.integration.support.service import good_checks, wait_for
from tests.integration.support.smtp import SmtpServerFactory
from tests.integration.support.sshd import SshServer
from tests.integration.test_node_link import api_port, ssh_connect
from tests.integration.test_sync_node import quiesce
from tests.sync_compare import differences
from vpshealth.store.database import open_reader
from vpshealth.sync.follower import IDLE_SYNC_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

INTERVAL = 5
SILENCE_ALARM = 20
NODE_STOPPED_SECONDS = 180
"""How long the node stays SIGSTOPped in (b): several minutes, many retries of the follower."""
LOOPING = f"{APP}-101512345678"
REDEPLOYED = f"{APP}-142233654321"


@pytest.fixture
def node_env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


@pytest.fixture
def desktop_env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "desktop-home"
    home.mkdir()
    return {
        **cli_env,
        "VPSHEALTH_HOME": str(home),
        "VPSHEALTH_COMMAND_TIMEOUT": "5",
        "VPSHEALTH_NODE_SILENCE_ALARM_SECONDS": str(SILENCE_ALARM),
    }


def node_rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(home / "data" / "vpshealth.sqlite3", timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def synced(copy: Path) -> bool:
    """The copy has a complete catch-up (it may not even have its tables yet)."""
    if not copy.exists():
        return False
    conn = sqlite3.connect(copy, timeout=10)
    try:
        sql = "SELECT 1 FROM settings WHERE key = 'sync.synced_at'"
        return conn.execute(sql).fetchone() is not None
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def shown(log: Path) -> list[str]:
    """What the desktop showed: its `Notification: …` lines."""
    lines = log.read_text(errors="replace").splitlines()
    return [
        line.removeprefix("Notification: ") for line in lines if line.startswith("Notification: ")
    ]


@pytest.fixture
def follower_log(tmp_path: Path) -> Path:
    return tmp_path / "follow.stderr"


Follow = Callable[[], "subprocess.Popen[bytes]"]


@pytest.fixture
def follow(desktop_env: dict[str, str], follower_log: Path) -> Iterator[Follow]:
    """``follow()`` starts `vpshealth node follow` (stderr to ``follower_log``); stopped at
    the end with SIGINT."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        with follower_log.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "vpshealth", "node", "follow"],
                env=desktop_env, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        started.append(proc)
        return proc

    yield start
    for proc in started:  # the processes this test started
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_one_sender_of_alerts_across_a_sleeping_desktop_and_a_stopped_node(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    node_env: dict[str, str],
    desktop_env: dict[str, str],
    vpshealth_home: Path,
    follow: Follow,
    follower_log: Path,
) -> None:
    smtp = smtp_server()
    steps = [
        ("notify", "email", "--smtp-host", smtp.host, "--smtp-port", str(smtp.port),
         "--security", "none", "--from", "vps@example.com", "--to", "me@example.com",
         "--batch-seconds", "0"),
        ("host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
         "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
         "--trust-host-key", "--interval", str(INTERVAL),
         "--docker-socket", docker_scenario.socket_path),
        ("rules", "--set", "load.warning=1000", "--set", "load.critical=1000"),
    ]  # fmt: skip
    for step in steps:
        done = run_cli(*step, env=node_env)
        assert done.returncode == 0, done.stderr
    node_db = vpshealth_home / "data" / "vpshealth.sqlite3"
    copy_db = Path(desktop_env["VPSHEALTH_HOME"]) / "data" / "node-copy.sqlite3"

    with api_node(node_env) as node:
        connected = ssh_connect(run_cli, desktop_env, ssh_server, api_port(node.url), node.token)
        assert connected.returncode == 0, connected.stderr
        wait_for("two good checks of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        desktop = follow()
        wait_for("the follower's first catch-up", lambda: synced(copy_db), 30)

        # (a) the laptop asleep while an incident opens and closes on the node
        desktop.send_signal(signal.SIGSTOP)
        try:
            docker_scenario.run_crash_loop(LOOPING, labels=app_labels(LOOPING))
            opened = "SELECT 1 FROM incidents WHERE kind = 'restart_loop'"
            wait_for("the restart loop on the node", lambda: node_rows(vpshealth_home, opened), 90)
            docker_scenario.run_sleeper(REDEPLOYED, labels=app_labels(REDEPLOYED))  # the fix
            docker_scenario.remove(LOOPING)
            still_open = f"{opened} AND resolved_at IS NULL"
            wait_for(
                "the incident resolved", lambda: not node_rows(vpshealth_home, still_open), 120
            )
            wait_for("both e-mails", lambda: len(smtp.messages) >= 2, 60)
        finally:
            desktop.send_signal(signal.SIGCONT)
        quiesce(run_cli, node_env, vpshealth_home)
        node_engine, copy_engine = open_reader(node_db), open_reader(copy_db)
        try:
            wait_for(
                "the copy equal to the node",
                lambda: differences(node_engine, copy_engine) == [],
                IDLE_SYNC_SECONDS + 30,  # disabling the hosts on the node rings no bell
            )
            notes = node_rows(vpshealth_home, "SELECT kind FROM notifications ORDER BY id")
            print_once = shown(follower_log)
            assert len(print_once) == len(set(print_once)), print_once
            if any(line.startswith("While you were away: ") for line in print_once):
                assert len(print_once) == 1, print_once
            else:
                assert len(print_once) == len(notes), (print_once, notes)
            assert any("restart loop" in line for line in print_once), print_once
            kinds = [str(kind) for (kind,) in notes]
            assert "opened" in kinds, kinds
            assert "resolved" in kinds, kinds
            assert len(smtp.messages) == len(notes), [r.message["Subject"] for r in smtp.messages]

            # (b) the node stopped for minutes, much longer than the silence alarm
            before = len(shown(follower_log))
            stopped_at = time.monotonic()
            node.proc.send_signal(signal.SIGSTOP)
            try:
                wait_for(
                    "the silence notification",
                    lambda: any("the node is silent" in line for line in shown(follower_log)),
                    SILENCE_ALARM + 60,
                )
                # no second one while it stays silent
                time.sleep(max(5.0, NODE_STOPPED_SECONDS - (time.monotonic() - stopped_at)))
            finally:
                node.proc.send_signal(signal.SIGCONT)
            wait_for(
                "the node is back",
                lambda: any("the node is back" in line for line in shown(follower_log)),
                60,
            )
            wait_for(
                "the copy equal again", lambda: differences(node_engine, copy_engine) == [], 30
            )
        finally:
            node_engine.dispose()
            copy_engine.dispose()
        after = shown(follower_log)[before:]
        assert len(after) == 2, after
        silent, back = after
        assert "down: its API does not answer" in silent, silent
        assert back.startswith(f"Resolved: ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}: ")
        assert "the node is back: caught up " in back

        def status() -> str:
            return run_cli("node", "status", "--no-check", env=desktop_env).stdout

        wait_for("node status no longer silent", lambda: "Silent:" not in status(), 20)
        assert desktop.poll() is None, follower_log.read_text()
    assert len(smtp.messages) == len(notes)

"""Edits from linked desktops, as real processes: a node (`vpshealth service --api`, its keys
in a sealed secrets file) and desktop homes linked to it through the real sshd. An edit made
while the node does not answer (SIGSTOP) is queued and applied by `node sync` after SIGCONT;
two desktops editing one field: the first to reach the node wins, the other is told in one
line, and a following desktop sees the edit within seconds; a server's login key (read from a
file or generated on the node) lands on the node only."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.api import ApiNode, api_node
from tests.integration.support.cli import RunCli
from tests.integration.support.node_link import api_port, ssh_connect
from tests.integration.support.service import wait_for
from tests.integration.support.sshd import SshServer

pytestmark = pytest.mark.integration

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def node_env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The node keeps its secrets in its sealed file, apart from the desktops' keyring."""
    folder = tmp_path / "credentials"
    folder.mkdir()
    (folder / "vpshealth-secrets-passphrase").write_text(PASSPHRASE + "\n")
    return {**cli_env, "VPSHEALTH_SECRET_STORE": "file", "CREDENTIALS_DIRECTORY": str(folder)}


def desktop(cli_env: dict[str, str], tmp_path: Path, name: str) -> dict[str, str]:
    home = tmp_path / name
    home.mkdir()
    return {**cli_env, "VPSHEALTH_HOME": str(home), "VPSHEALTH_COMMAND_TIMEOUT": "4"}


def link(run_cli: RunCli, env: dict[str, str], sshd: SshServer, node: ApiNode) -> None:
    done = ssh_connect(run_cli, env, sshd, api_port(node.url), node.token)
    assert done.returncode == 0, done.stderr


def server_args(sshd: SshServer, *login: str) -> list[str]:
    return [
        "--address", "127.0.0.1", "--port", str(sshd.port), "--user", sshd.user,
        *(login or ("--key-file", str(sshd.client_key_path))), "--trust-host-key",
    ]  # fmt: skip


def node_host(node: ApiNode, name: str) -> dict[str, Any]:
    with node.client() as client:
        answer = client.get(f"/api/v1/hosts/{name}")
        assert answer.status_code == 200, answer.text
        host: dict[str, Any] = answer.json()
        return host


def copy_host(env: dict[str, str], name: str) -> sqlite3.Row | None:
    conn = sqlite3.connect(Path(env["VPSHEALTH_HOME"]) / "data" / "node-copy.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM hosts WHERE name = ?", (name,)
        ).fetchone()
        return row
    finally:
        conn.close()


def own_hosts(env: dict[str, str]) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(Path(env["VPSHEALTH_HOME"]) / "data" / "vpshealth.sqlite3")
    try:
        return conn.execute("SELECT name, key_ref FROM hosts WHERE kind != 'local'").fetchall()
    finally:
        conn.close()


def desktop_secret(env: dict[str, str], ref: str) -> str | None:
    """What the desktop's own secret store holds under ``ref``."""
    code = (
        "import sys; from vpshealth.app import build_core; "
        "v = build_core().secrets.get(sys.argv[1]); print('none' if v is None else 'found')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, ref],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return None if done.stdout.strip() == "none" else done.stdout.strip()


def synced_since(env: dict[str, str], since: float) -> bool:
    """The copy was caught up after ``since``."""
    conn = sqlite3.connect(Path(env["VPSHEALTH_HOME"]) / "data" / "node-copy.sqlite3")
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = 'sync.synced_at'").fetchone()
    finally:
        conn.close()
    return row is not None and float(json.loads(row[0])) > since


@contextmanager
def stopped(node: ApiNode) -> Iterator[None]:
    os.kill(node.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(node.proc.pid, signal.SIGCONT)


def test_an_edit_made_while_the_node_is_stopped_is_applied_after_it_answers(
    run_cli: RunCli,
    node_env: dict[str, str],
    cli_env: dict[str, str],
    tmp_path: Path,
    ssh_server: SshServer,
) -> None:
    laptop = desktop(cli_env, tmp_path, "laptop")
    with api_node(node_env) as node:
        link(run_cli, laptop, ssh_server, node)
        added = run_cli("host", "add", "web1", *server_args(ssh_server), env=laptop)
        assert added.returncode == 0, added.stderr
        assert "The node checks it from now on" in added.stdout
        with stopped(node):
            edited = run_cli("host", "edit", "web1", "--interval", "90", env=laptop)
            assert edited.returncode == 0, edited.stderr
            assert "the change is queued and is applied when it answers" in edited.stderr
            snoozed = run_cli("snooze", "web1", "2h", env=laptop)
            assert snoozed.returncode == 0, snoozed.stderr
            status = run_cli("node", "status", "--no-check", env=laptop)
            assert "Queued:     2 edit(s) wait for the node: host edit web1; snooze web1" in (
                status.stdout
            ), status.stdout
        synced = run_cli("node", "sync", env=laptop)
        assert synced.returncode == 0, synced.stderr
        assert "Sent 2 queued edit(s) to the node." in synced.stdout
        assert node_host(node, "web1")["interval_seconds"] == 90
        with node.client() as client:
            windows = client.get("/api/v1/silences").json()["windows"]
        assert [(w["host"], w["kind"]) for w in windows] == [("web1", "snooze")]
        row = copy_host(laptop, "web1")
        assert row is not None
        assert row["interval_seconds"] == 90
        status = run_cli("node", "status", "--json", "--no-check", env=laptop)
        assert json.loads(status.stdout)["queued"] == []
        assert own_hosts(laptop) == []


def test_an_edit_the_node_refuses_leaves_the_queue_with_a_report(
    run_cli: RunCli,
    node_env: dict[str, str],
    cli_env: dict[str, str],
    tmp_path: Path,
    ssh_server: SshServer,
) -> None:
    laptop = desktop(cli_env, tmp_path, "laptop")
    with api_node(node_env) as node:
        link(run_cli, laptop, ssh_server, node)
        assert run_cli("host", "add", "web1", *server_args(ssh_server), env=laptop).returncode == 0
        with stopped(node):
            queued = run_cli("host", "edit", "web1", "--interval", "90", env=laptop)
            assert "queued" in queued.stderr
        with node.client() as client:  # removed on the node meanwhile
            assert client.delete("/api/v1/hosts/web1").status_code == 204
        synced = run_cli("node", "sync", env=laptop)
        assert synced.returncode == 0, synced.stderr
        assert "Not applied: host edit web1: " in synced.stderr
        status = run_cli("node", "status", "--no-check", env=laptop)
        assert "Not applied: host edit web1: There is no host named 'web1'" in status.stdout
        again = run_cli("node", "sync", "--json", env=laptop)
        assert json.loads(again.stdout)["edits_applied"] == 0


def test_two_desktops_edit_one_host_and_the_first_to_reach_the_node_wins(
    run_cli: RunCli,
    node_env: dict[str, str],
    cli_env: dict[str, str],
    tmp_path: Path,
    ssh_server: SshServer,
) -> None:
    first, second = desktop(cli_env, tmp_path, "first"), desktop(cli_env, tmp_path, "second")
    with api_node(node_env) as node:
        link(run_cli, first, ssh_server, node)
        link(run_cli, second, ssh_server, node)
        assert run_cli("host", "add", "web1", *server_args(ssh_server), env=first).returncode == 0
        assert run_cli("node", "sync", env=second).returncode == 0
        started = time.time()
        follow = subprocess.Popen(
            [sys.executable, "-m", "vpshealth", "node", "follow"],
            env=second, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            wait_for("the second desktop to catch up", lambda: synced_since(second, started), 20)
            time.sleep(1)  # it subscribes to the live stream right after
            assert run_cli("host", "edit", "web1", "--interval", "90", env=first).returncode == 0
            wait_for(
                "the following desktop's copy to show the edit",
                lambda: (
                    (row := copy_host(second, "web1")) is not None and row["interval_seconds"] == 90
                ),
                15,
            )
        finally:
            follow.send_signal(signal.SIGINT)
            follow.communicate(timeout=30)
        # the second desktop's copy says 90; the first changes it again before it syncs
        assert run_cli("host", "edit", "web1", "--interval", "75", env=first).returncode == 0
        lost = run_cli("host", "edit", "web1", "--interval", "120", "--tag", "prod", env=second)
        assert lost.returncode == 4, lost.stdout + lost.stderr
        lines = lost.stderr.strip().splitlines()
        assert lines == [
            "vpshealth: web1: interval_seconds was changed on the node meanwhile; it keeps 75, "
            "your 120 was not applied."
        ]
        shown = node_host(node, "web1")
        assert (shown["interval_seconds"], shown["tags"]) == (75, ["prod"])
        row = copy_host(second, "web1")
        assert row is not None
        assert (row["interval_seconds"], row["tags"]) == (75, '["prod"]')


def test_a_server_key_lives_on_the_node_only(
    run_cli: RunCli,
    node_env: dict[str, str],
    cli_env: dict[str, str],
    tmp_path: Path,
    ssh_server: SshServer,
) -> None:
    laptop = desktop(cli_env, tmp_path, "laptop")
    with api_node(node_env) as node:
        link(run_cli, laptop, ssh_server, node)
        from_file = run_cli("host", "add", "web1", *server_args(ssh_server), env=laptop)
        assert from_file.returncode == 0, from_file.stderr
        made = run_cli(
            "host", "add", "web2", *server_args(ssh_server, "--generate-key"), env=laptop
        )
        assert made.returncode == 0, made.stderr
        assert "stored in the node's secret store" in made.stdout
        line = next(x for x in made.stdout.splitlines() if x.startswith("ssh-ed25519 "))
        assert line.endswith("vpshealth@web2")
        for name in ("web1", "web2"):
            row = copy_host(laptop, name)
            assert row is not None, name
            assert row["key_ref"], name
            assert desktop_secret(laptop, row["key_ref"]) is None, name
        assert own_hosts(laptop) == []
        key_text = ssh_server.client_key_path.read_text()
        data = Path(laptop["VPSHEALTH_HOME"]) / "data"
        for path in data.iterdir():
            if path.is_file():
                assert key_text.split("\n")[1].encode() not in path.read_bytes(), path
        checked = run_cli("check", "web1", "--json", env=node_env)
        assert json.loads(checked.stdout)["hosts"][0]["state"] == "ok", checked.stdout

"""The desktop reads the node's copy: a real node (`vpshealth service --api` checking a host
on the real sshd) and a desktop home linked to it through that sshd. After `node sync` the
desktop's read commands list the node's hosts; with the node stopped (SIGSTOP) they still
answer from the copy, with the offline line; the checks are the node's, so `service` is
refused while linked."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.support.api import api_node
from tests.integration.support.cli import RunCli
from tests.integration.support.desktop import Desktop
from tests.integration.support.procs import log_tail, stop_process
from tests.integration.support.service import wait_for
from tests.integration.support.sshd import SshServer
from tests.integration.test_gui_desktop import _app_env
from tests.integration.test_node_link import api_port, ssh_connect
from tests.integration.test_sync_node import add_web1
from vpshealth.engine.lock import EngineLock

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("load_out_of_reach")]


def backdate_last_sync(home: Path, seconds: float) -> None:
    """As if the last sync were ``seconds`` ago (the test cannot wait two hours)."""
    conn = sqlite3.connect(home / "data" / "node-copy.sqlite3", timeout=10)
    try:
        with conn:
            conn.execute(
                "UPDATE settings SET value = ? WHERE key = 'sync.synced_at'",
                (repr(time.time() - seconds),),
            )
    finally:
        conn.close()


def names_in(listing: str) -> list[str]:
    return sorted(h["name"] for h in json.loads(listing)["hosts"])


@pytest.mark.timeout(240)
def test_the_desktop_lists_the_nodes_hosts_from_its_copy_also_when_the_node_is_stopped(
    ssh_server: SshServer, run_cli: RunCli, cli_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "desktop-home"
    home.mkdir()
    desktop_env = {**cli_env, "VPSHEALTH_HOME": str(home)}
    add_web1(run_cli, cli_env, ssh_server)
    own = run_cli("host", "list", "--json", env=desktop_env)
    assert names_in(own.stdout) == ["localhost"]
    with api_node(cli_env) as node:
        connected = ssh_connect(run_cli, desktop_env, ssh_server, api_port(node.url), node.token)
        assert connected.returncode == 0, connected.stderr
        address = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}"
        synced = run_cli("node", "sync", env=desktop_env)
        assert synced.returncode == 0, synced.stderr
        listed = run_cli("host", "list", "--json", env=desktop_env)
        assert listed.returncode == 0, listed.stderr
        assert names_in(listed.stdout) == ["localhost", "web1"]
        assert listed.stderr == ""  # just synced: no offline line

        node.proc.send_signal(signal.SIGSTOP)
        try:
            backdate_last_sync(home, 2 * 3600 + 30)
            started = time.monotonic()
            offline = run_cli("host", "list", "--json", env=desktop_env)
            assert time.monotonic() - started < 15  # nothing waits for the stopped node
            assert offline.returncode == 0, offline.stderr
            assert names_in(offline.stdout) == ["localhost", "web1"]
            assert offline.stderr == (
                f"Offline copy of node {address}, last synced 2 h ago (vpshealth node sync)\n"
            )
            shown = run_cli("host", "show", "web1", env=desktop_env)
            assert shown.returncode == 0, shown.stderr
            assert f"Address:     {ssh_server.host}:{ssh_server.port}" in shown.stdout
            assert shown.stderr.startswith("Offline copy of node")
            refused = run_cli("service", "--once", env=desktop_env)
            assert refused.returncode == 2
            assert f"linked to the node {address}, which runs the checks" in refused.stderr
            assert "`vpshealth node disconnect` first" in refused.stderr
        finally:
            node.proc.send_signal(signal.SIGCONT)
    forgotten = run_cli("node", "disconnect", env=desktop_env)
    assert forgotten.returncode == 0, forgotten.stderr
    back = run_cli("host", "list", "--json", env=desktop_env)
    assert (names_in(back.stdout), back.stderr) == (["localhost"], "")


@pytest.mark.timeout(240)
def test_the_desktop_app_follows_the_node_and_runs_no_checks(
    desktop: Desktop, ssh_server: SshServer, run_cli: RunCli, cli_env: dict[str, str],
    tmp_path: Path,
) -> None:  # fmt: skip
    home = tmp_path / "desktop-home"
    home.mkdir()
    desktop_env = {**cli_env, "VPSHEALTH_HOME": str(home)}
    add_web1(run_cli, cli_env, ssh_server)
    with api_node(cli_env) as node:
        connected = ssh_connect(run_cli, desktop_env, ssh_server, api_port(node.url), node.token)
        assert connected.returncode == 0, connected.stderr
        address = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}"
        log_file = home / "logs" / "app.log"
        output = tmp_path / "app-output.log"
        with open(output, "wb") as out:
            app = subprocess.Popen(
                [sys.executable, "-m", "vpshealth"],
                env=_app_env(desktop_env, desktop),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

        def log() -> str:
            if app.poll() is not None:
                raise AssertionError(f"the app exited with {app.returncode}:\n{log_tail(output)}")
            return log_file.read_text(errors="replace") if log_file.exists() else ""

        try:
            wait_for(
                "the app to follow the node", lambda: f"run by the node {address}" in log(), 60
            )
            wait_for(
                "the app to show the node's two servers from its copy",
                lambda: f"Showing the copy of the node {address}: 2 servers" in log(),
                90,
            )
            assert "Service started" not in log()  # no checks run here
            assert (home / "data" / "node-copy.sqlite3").exists()
        finally:
            code = stop_process(app, sig=signal.SIGTERM, timeout=30, tree=False)
        assert code == 0, log_tail(output, 60)
    lock = EngineLock(home / "data" / "engine.lock")
    lock.acquire()  # never taken by the app
    lock.release()

"""The headless service against a real sshd: it follows host changes, survives the server
dying, and holds the engine lock."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.service import start_service, stop_service, wait_for
from tests.integration.support.sshd import SshServer


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


def state_of(home: Path, name: str) -> tuple[str, str | None, int] | None:
    database = home / "data" / "vpshealth.sqlite3"
    if not database.exists():
        return None
    conn = sqlite3.connect(database, timeout=10)
    try:
        row = conn.execute(
            "SELECT state, problem, checked_at FROM host_status JOIN hosts "
            "ON hosts.id = host_status.host_id WHERE hosts.name = ?",
            (name,),
        ).fetchone()
    except sqlite3.OperationalError:  # the service is still creating the schema
        return None
    finally:
        conn.close()
    return None if row is None else (row[0], row[1], row[2])


def collected(home: Path, name: str) -> bool:
    state = state_of(home, name)
    return state is not None and state[1] not in {"unreachable", "timeout", "auth_failed"}


def test_service_follows_new_hosts_and_recovers_when_sshd_returns(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    proc = start_service(env)
    try:
        wait_for(
            "the first check of this computer", lambda: collected(vpshealth_home, "localhost"), 30
        )
        added = run_cli(
            "host",
            "add",
            "web1",
            "--address",
            ssh_server.host,
            "--port",
            str(ssh_server.port),
            "--user",
            ssh_server.user,
            "--key-file",
            str(ssh_server.client_key_path),
            "--trust-host-key",
            "--interval",
            "5",
            env=env,
        )
        assert added.returncode == 0, added.stderr
        first = state_of(vpshealth_home, "web1")
        assert first is not None
        wait_for(
            "the service to check the new host",
            lambda: (s := state_of(vpshealth_home, "web1")) is not None and s[2] > first[2],
            30,
        )

        ssh_server.kill()
        wait_for(
            "web1 to be reported unreachable",
            lambda: (state_of(vpshealth_home, "web1") or ("", None, 0))[1] == "unreachable",
            30,
        )
        assert proc.poll() is None, "the service died when sshd was killed"

        ssh_server.start()
        wait_for("web1 to recover", lambda: collected(vpshealth_home, "web1"), 60)
        assert proc.poll() is None
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    assert "Service stopped" in err
    assert "web1 is now unreachable" in err

    conn = sqlite3.connect(vpshealth_home / "data" / "vpshealth.sqlite3")
    try:
        transitions = [
            row[0]
            for row in conn.execute(
                "SELECT new_state FROM events JOIN hosts ON hosts.id = events.host_id "
                "WHERE hosts.name = 'web1' ORDER BY events.id"
            )
        ]
    finally:
        conn.close()
    assert "unreachable" in transitions
    assert transitions[-1] != "unreachable"


def test_only_one_service_runs(run_cli: RunCli, env: dict[str, str], vpshealth_home: Path) -> None:
    first = start_service(env)
    try:
        lock = vpshealth_home / "data" / "engine.lock"
        wait_for("the engine lock", lambda: lock.exists() and lock.read_text().strip() != "", 30)
        second = run_cli("service", env=env, timeout=60)
        assert second.returncode == 2
        assert f"PID {first.pid}" in second.stderr
        once = run_cli("service", "--once", env=env, timeout=60)
        assert once.returncode == 2
        assert first.poll() is None
    finally:
        code, err = stop_service(first)
    assert code == 0, err
    after = run_cli("service", "--once", env=env, timeout=60)
    assert after.returncode in (0, 1), after.stderr
    assert "localhost:" in after.stdout


def test_sigint_stops_the_service_cleanly(env: dict[str, str], vpshealth_home: Path) -> None:
    proc = start_service(env)
    wait_for("the first check", lambda: collected(vpshealth_home, "localhost"), 30)
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=30)  # SIGINT alone must stop it; stop_service then sends nothing
    code, err = stop_service(proc)
    assert code == 0, err
    assert "Traceback" not in err

"""The CLI against a real OpenSSH server and a real Secret Service keyring."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.ssh_agent import ssh_agent
from tests.integration.support.sshd import SshServer


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


def add_args(server: SshServer, name: str = "web1", *extra: str) -> list[str]:
    return [
        "host",
        "add",
        name,
        "--address",
        server.host,
        "--port",
        str(server.port),
        "--user",
        server.user,
        *extra,
    ]


def add_host(run_cli: RunCli, env: dict[str, str], server: SshServer, name: str = "web1") -> None:
    done = run_cli(
        *add_args(server, name, "--key-file", str(server.client_key_path), "--trust-host-key"),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert server.host_key_fingerprint in done.stderr


def check_json(run_cli: RunCli, env: dict[str, str], *names: str) -> tuple[int, dict[str, Any]]:
    done = run_cli("check", *names, "--json", env=env)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def db_rows(home: Path, query: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(home / "data" / "vpshealth.sqlite3")
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def sample_count(home: Path, name: str) -> int:
    """Raw samples of a host: moved to their series or still staged."""
    return sum(
        int(
            db_rows(
                home,
                f"SELECT count(*) FROM {table} AS s JOIN series ON series.id = s.series_id "
                "JOIN hosts ON hosts.id = series.host_id WHERE hosts.name = ?",
                name,
            )[0][0]
        )
        for table in ("samples", "staged_samples")
    )


def key_body(path: Path) -> str:
    """A long run of the private key's base64 body, to search for on disk."""
    lines = path.read_text().strip().splitlines()
    return "".join(lines[1:-1])[20:80]


def test_add_and_check_matches_the_machine(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    add_host(run_cli, env, ssh_server)
    code, data = check_json(run_cli, env, "web1")
    host = data["hosts"][0]
    assert host["name"] == "web1"
    assert host["problem"] in (None, "cpu_high", "memory_high", "disk_high", "load_high"), host
    assert code == (0 if host["state"] == "ok" else 1)
    metrics = host["metrics"]
    meminfo = Path("/proc/meminfo").read_text()
    mem_total = int(re.search(r"MemTotal:\s+(\d+) kB", meminfo).group(1)) * 1024  # type: ignore[union-attr]
    assert metrics["memory"]["total_bytes"] == mem_total
    assert 0 < metrics["memory"]["used_bytes"] < mem_total
    assert metrics["cpu_count"] == os.cpu_count()
    assert metrics["cpu_percent"] is not None
    assert 0 <= metrics["cpu_percent"] <= 100
    root = next(d for d in metrics["disks"] if d["mount"] == "/")
    st = os.statvfs("/")
    assert abs(root["total_bytes"] - st.f_blocks * st.f_frsize) <= 1024 * 1024
    assert abs(root["available_bytes"] - st.f_bavail * st.f_frsize) <= 512 * 1024 * 1024
    load_now = os.getloadavg()
    assert len(metrics["load"]) == 3
    assert abs(metrics["load"][2] - load_now[2]) < 2.0
    assert metrics["uptime_seconds"] > 0
    assert all(n["interface"] != "lo" for n in metrics["network"])

    shown = json.loads(run_cli("host", "show", "web1", "--json", env=env).stdout)
    assert shown["host_key_fingerprint"] == ssh_server.host_key_fingerprint.rstrip("=")
    assert shown["system"]["kernel"] == os.uname().release
    assert shown["auth"] == "key"
    assert sample_count(vpshealth_home, "web1") > 5

    history = run_cli("history", "web1", "memory", "--json", env=env)
    assert history.returncode == 0, history.stderr
    assert len(json.loads(history.stdout)["points"]) >= 2


def test_key_material_never_touches_disk(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    passphrase = "correct horse battery staple"
    encrypted = ssh_server.make_encrypted_client_key(passphrase)
    done = run_cli(
        *add_args(ssh_server, "enc", "--key-file", str(encrypted), "--trust-host-key", "-v"),
        env={**env, "VPSHEALTH_KEY_PASSPHRASE": passphrase},
    )
    assert done.returncode == 0, done.stderr
    add_host(run_cli, env, ssh_server, "plain")
    _, data = check_json(run_cli, env)
    states = {h["name"]: h for h in data["hosts"]}
    assert states["enc"]["metrics"] is not None, states["enc"]
    assert states["plain"]["metrics"] is not None, states["plain"]
    smtp_password = "smtp-pass 9d2e-b7c1"
    smtp = run_cli(
        "notify", "email", "--smtp-host", "mail.example.com", "--user", "alerts",
        "--password-stdin", env=env, input=smtp_password + "\n",
    )  # fmt: skip
    assert smtp.returncode == 0, smtp.stderr
    needles = [
        passphrase.encode(),
        key_body(encrypted).encode(),
        key_body(ssh_server.client_key_path).encode(),
        smtp_password.encode(),
    ]
    for path in vpshealth_home.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for needle in needles:
                assert needle not in content, f"secret found in {path}"
    refs = [
        r[0] for r in db_rows(vpshealth_home, "SELECT key_ref FROM hosts WHERE key_ref IS NOT NULL")
    ]
    assert len(refs) == 2
    assert all(r.startswith("ssh-key/") for r in refs)


def test_generated_key_prints_the_authorized_keys_line(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str]
) -> None:
    done = run_cli(*add_args(ssh_server, "gen", "--generate-key", "--trust-host-key"), env=env)
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("ssh-ed25519 "))
    assert "vpshealth@gen" in line
    code, data = check_json(run_cli, env, "gen")
    assert (code, data["hosts"][0]["problem"]) == (1, "auth_failed")
    assert "authorized_keys" in data["hosts"][0]["message"]
    with open(ssh_server.authorized_keys_path, "a") as fh:
        fh.write(line + "\n")
    code, data = check_json(run_cli, env, "gen")
    assert data["hosts"][0]["metrics"] is not None


@pytest.mark.posix_only  # the test's ssh-agent listens on a Unix socket (Windows: a named pipe)
def test_a_host_logs_in_with_the_ssh_agent(
    run_cli: RunCli, env: dict[str, str], ssh_server: SshServer, tmp_path: Path
) -> None:
    with ssh_agent(tmp_path, ssh_server.client_key_path) as sock:
        with_agent = {**env, "SSH_AUTH_SOCK": sock}
        added = run_cli(
            *add_args(ssh_server, "web1", "--agent", "--trust-host-key"), env=with_agent
        )
        assert added.returncode == 0, added.stderr
        assert "First check: ok" in added.stdout, added.stdout
        assert run_cli("check", "web1", env=with_agent).returncode == 0


def test_wrong_client_key_is_auth_failed(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str]
) -> None:
    wrong = ssh_server.make_unauthorized_key()
    done = run_cli(
        *add_args(ssh_server, "web1", "--key-file", str(wrong), "--trust-host-key"), env=env
    )
    assert done.returncode == 0, done.stderr
    assert "refused the login" in done.stdout
    code, data = check_json(run_cli, env, "web1")
    assert code == 1
    assert data["hosts"][0]["state"] == "critical"
    assert data["hosts"][0]["problem"] == "auth_failed"
    assert data["hosts"][0]["metrics"] is None


def test_stopped_server_is_unreachable(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str]
) -> None:
    add_host(run_cli, env, ssh_server)
    ssh_server.stop()
    code, data = check_json(run_cli, env, "web1")
    assert code == 1
    assert (data["hosts"][0]["state"], data["hosts"][0]["problem"]) == (
        "unreachable",
        "unreachable",
    )
    assert "refused" in data["hosts"][0]["message"]


def test_closed_port_at_add_time_saves_nothing(
    closed_port: int,
    run_cli: RunCli,
    env: dict[str, str],
    ssh_server: SshServer,
    vpshealth_home: Path,
) -> None:
    done = run_cli(
        "host",
        "add",
        "web1",
        "--address",
        "127.0.0.1",
        "--port",
        str(closed_port),
        "--key-file",
        str(ssh_server.client_key_path),
        "--trust-host-key",
        env=env,
    )
    assert done.returncode == 1
    assert "Nothing was saved" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert db_rows(vpshealth_home, "SELECT name FROM hosts") == [("localhost",)]


def test_server_that_never_answers_times_out(
    ssh_server: SshServer, hung_listener: int, run_cli: RunCli, env: dict[str, str]
) -> None:
    add_host(run_cli, env, ssh_server)
    edited = run_cli("host", "edit", "web1", "--port", str(hung_listener), env=env)
    assert edited.returncode == 0, edited.stderr
    code, data = check_json(run_cli, {**env, "VPSHEALTH_CONNECT_TIMEOUT": "2"}, "web1")
    assert code == 1
    assert data["hosts"][0]["problem"] == "timeout"
    assert "2 s" in data["hosts"][0]["message"]


def test_changed_host_key_runs_nothing_until_trusted_again(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    add_host(run_cli, env, ssh_server)
    old_fingerprint = ssh_server.host_key_fingerprint
    before = sample_count(vpshealth_home, "web1")
    ssh_server.restart_with_new_host_key()
    auth_log_before = ssh_server.log_path.read_text()
    code, data = check_json(run_cli, env, "web1")
    assert code == 1
    host = data["hosts"][0]
    assert (host["state"], host["problem"], host["metrics"]) == (
        "critical",
        "host_key_mismatch",
        None,
    )
    assert "CHANGED" in host["message"]
    assert sample_count(vpshealth_home, "web1") == before
    new_log = ssh_server.log_path.read_text()[len(auth_log_before) :]
    assert "Accepted publickey" not in new_log

    refused = run_cli("host", "trust", "web1", env=env)
    assert refused.returncode == 2
    assert old_fingerprint.rstrip("=") in refused.stderr or old_fingerprint in refused.stderr
    assert ssh_server.host_key_fingerprint in refused.stderr

    trusted = run_cli("host", "trust", "web1", "--yes", env=env)
    assert trusted.returncode == 0, trusted.stderr
    code, data = check_json(run_cli, env, "web1")
    assert data["hosts"][0]["metrics"] is not None
    assert sample_count(vpshealth_home, "web1") > before


def test_expected_fingerprint_is_enforced(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    wrong = "SHA256:" + "A" * 43
    done = run_cli(
        *add_args(
            ssh_server,
            "web1",
            "--key-file",
            str(ssh_server.client_key_path),
            "--host-key-fingerprint",
            wrong,
        ),
        env=env,
    )
    assert done.returncode == 1
    assert ssh_server.host_key_fingerprint in done.stderr
    assert db_rows(vpshealth_home, "SELECT name FROM hosts") == [("localhost",)]
    right = run_cli(
        *add_args(
            ssh_server,
            "web1",
            "--key-file",
            str(ssh_server.client_key_path),
            "--host-key-fingerprint",
            ssh_server.host_key_fingerprint,
        ),
        env=env,
    )
    assert right.returncode == 0, right.stderr


def test_unconfirmed_host_key_without_a_terminal_saves_nothing(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    done = run_cli(
        *add_args(ssh_server, "web1", "--key-file", str(ssh_server.client_key_path)), env=env
    )
    assert done.returncode == 2
    assert "--trust-host-key" in done.stderr
    assert db_rows(vpshealth_home, "SELECT name FROM hosts") == [("localhost",)]


def test_remove_deletes_the_key_from_the_keyring(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    add_host(run_cli, env, ssh_server)
    (ref,) = db_rows(vpshealth_home, "SELECT key_ref FROM hosts WHERE name = 'web1'")[0]

    def stored() -> str:
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import keyring; print(keyring.get_password('vpshealth', {ref!r}) is not None)",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return probe.stdout.strip()

    assert stored() == "True"
    done = run_cli("host", "remove", "web1", env=env)
    assert done.returncode == 0, done.stderr
    assert stored() == "False"
    assert db_rows(vpshealth_home, "SELECT count(*) FROM series") == [(0,)] or all(
        r[0] == 0
        for r in db_rows(
            vpshealth_home,
            "SELECT count(*) FROM series WHERE host_id NOT IN (SELECT id FROM hosts)",
        )
    )


def test_without_a_keyring_adding_a_key_fails_clearly(
    ssh_server: SshServer, run_cli: RunCli, no_keyring_env: dict[str, str], vpshealth_home: Path
) -> None:
    env = {**no_keyring_env, "VPSHEALTH_HOME": str(vpshealth_home)}
    done = run_cli(
        *add_args(
            ssh_server, "web1", "--key-file", str(ssh_server.client_key_path), "--trust-host-key"
        ),
        env=env,
    )
    assert done.returncode == 2
    assert "keyring" in done.stderr.lower()
    assert "PYTHON_KEYRING_BACKEND" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert db_rows(vpshealth_home, "SELECT name FROM hosts") == [("localhost",)]

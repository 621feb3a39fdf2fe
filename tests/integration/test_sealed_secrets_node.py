"""A headless node without any OS keyring keeps its keys in the sealed secrets file, and logs
in to a real OpenSSH server with them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.sshd import SshServer
from vpshealth.secrets import SecretStore
from vpshealth.secrets.sealed_file import SealedFileKeyring

pytestmark = pytest.mark.integration

PASSPHRASE = "node passphrase 6f1d0c2e9a"


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    """A systemd-style credentials folder holding the passphrase."""
    folder = tmp_path / "credentials"
    folder.mkdir()
    (folder / "vpshealth-secrets-passphrase").write_text(PASSPHRASE + "\n")
    return folder


@pytest.fixture
def node_env(
    no_keyring_env: dict[str, str], vpshealth_home: Path, credentials: Path
) -> dict[str, str]:
    """No D-Bus session and no usable keyring backend: only the sealed file can work."""
    assert "DBUS_SESSION_BUS_ADDRESS" not in no_keyring_env
    return {
        **no_keyring_env,
        "VPSHEALTH_HOME": str(vpshealth_home),
        "VPSHEALTH_SECRET_STORE": "file",
        "CREDENTIALS_DIRECTORY": str(credentials),
        "VPSHEALTH_CONNECT_TIMEOUT": "5",
        "VPSHEALTH_COMMAND_TIMEOUT": "15",
        "VPSHEALTH_WARNING_PERCENT": "1000",
        "VPSHEALTH_CRITICAL_PERCENT": "1000",
    }


def add_args(server: SshServer, name: str, *extra: str) -> list[str]:
    address = ["--address", server.host, "--port", str(server.port), "--user", server.user]
    return ["host", "add", name, *address, *extra, "--trust-host-key"]


def check(run_cli: RunCli, env: dict[str, str], name: str) -> dict[str, Any]:
    done = run_cli("check", name, "--json", "-v", env=env)
    assert done.returncode in (0, 1), done.stderr
    host: dict[str, Any] = json.loads(done.stdout)["hosts"][0]
    return host


def sealed_store(home: Path, credentials: Path) -> SecretStore:
    passphrase = credentials / "vpshealth-secrets-passphrase"
    return SecretStore(SealedFileKeyring(home / "data" / "secrets.sealed", lambda: passphrase))


def key_refs(home: Path) -> list[str]:
    conn = sqlite3.connect(home / "data" / "vpshealth.sqlite3")
    try:
        rows = conn.execute("SELECT key_ref FROM hosts WHERE key_ref IS NOT NULL").fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def assert_only_the_sealed_file_holds(home: Path, private_key: str) -> None:
    body = "".join(private_key.strip().splitlines()[1:-1])
    needles = [body[i : i + 40].encode() for i in range(0, len(body) - 40, 40)]
    assert needles
    checked = 0
    for path in home.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not [n for n in needles if n in content], f"key material in {path}"
            checked += 1
    assert (home / "data" / "secrets.sealed").is_file()
    assert (home / "logs" / "cli.log").is_file()
    assert checked >= 3


def test_a_generated_key_works_from_the_sealed_file(
    ssh_server: SshServer,
    run_cli: RunCli,
    node_env: dict[str, str],
    vpshealth_home: Path,
    credentials: Path,
) -> None:
    done = run_cli(*add_args(ssh_server, "gen", "--generate-key", "-v"), env=node_env)
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("ssh-ed25519 "))
    assert check(run_cli, node_env, "gen")["problem"] == "auth_failed"
    with open(ssh_server.authorized_keys_path, "a") as fh:
        fh.write(line + "\n")
    host = check(run_cli, node_env, "gen")
    assert host["metrics"] is not None, host
    (ref,) = key_refs(vpshealth_home)
    private_key = sealed_store(vpshealth_home, credentials).get(ref)
    assert private_key is not None
    assert "PRIVATE KEY" in private_key
    assert_only_the_sealed_file_holds(vpshealth_home, private_key)


def test_an_imported_key_file_works_from_the_sealed_file(
    ssh_server: SshServer,
    run_cli: RunCli,
    node_env: dict[str, str],
    vpshealth_home: Path,
    credentials: Path,
    tmp_path: Path,
) -> None:
    passphrase_file = tmp_path / "passphrase-elsewhere"
    passphrase_file.write_text(PASSPHRASE)
    env = {**node_env, "VPSHEALTH_SECRETS_PASSPHRASE_FILE": str(passphrase_file)}
    env.pop("CREDENTIALS_DIRECTORY")
    key_file = str(ssh_server.client_key_path)
    done = run_cli(*add_args(ssh_server, "web1", "--key-file", key_file, "-v"), env=env)
    assert done.returncode == 0, done.stderr
    host = check(run_cli, env, "web1")
    assert host["metrics"] is not None, host
    assert check(run_cli, node_env, "web1")["metrics"] is not None  # same passphrase
    (ref,) = key_refs(vpshealth_home)
    private_key = ssh_server.client_key_path.read_text()
    assert sealed_store(vpshealth_home, credentials).get(ref) == private_key
    assert_only_the_sealed_file_holds(vpshealth_home, private_key)


def test_without_a_passphrase_nothing_is_saved(
    ssh_server: SshServer, run_cli: RunCli, node_env: dict[str, str], vpshealth_home: Path
) -> None:
    env = {**node_env, "VPSHEALTH_SECRETS_DIR": str(vpshealth_home / "no-secrets-here")}
    env.pop("CREDENTIALS_DIRECTORY")
    key_file = str(ssh_server.client_key_path)
    done = run_cli(*add_args(ssh_server, "web1", "--key-file", key_file), env=env)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "VPSHEALTH_SECRET_STORE=file needs a passphrase" in done.stderr
    assert "vpshealth_secrets_passphrase" in done.stderr
    assert key_refs(vpshealth_home) == []
    assert not (vpshealth_home / "data" / "secrets.sealed").exists()


def test_a_wrong_passphrase_is_reported_by_check(
    ssh_server: SshServer,
    run_cli: RunCli,
    node_env: dict[str, str],
    credentials: Path,
) -> None:
    key_file = str(ssh_server.client_key_path)
    done = run_cli(*add_args(ssh_server, "web1", "--key-file", key_file), env=node_env)
    assert done.returncode == 0, done.stderr
    (credentials / "vpshealth-secrets-passphrase").write_text("another passphrase entirely")
    host = check(run_cli, node_env, "web1")
    assert host["problem"] == "keyring_unavailable", host
    assert "the secrets file" in host["message"]

"""The integration fixtures start real, working peers (no vpshealth code involved)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import asyncssh
import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.secret_service import SecretService
from tests.integration.support.sshd import SshServer


def _pinned(public_key_line: str) -> tuple[list[asyncssh.SSHKey], list[object], list[object]]:
    return ([asyncssh.import_public_key(public_key_line)], [], [])


async def _connect(
    server: SshServer, *, key: Path | None = None, host_key: str | None = None, **kwargs: object
) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        server.host,
        port=server.port,
        username=server.user,
        client_keys=[str(key or server.client_key_path)],
        known_hosts=_pinned(host_key or server.host_public_key),
        agent_path=None,
        config=None,
        connect_timeout=10,
        **kwargs,
    )


def _run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_ssh_server_runs_commands_with_pinned_host_key(ssh_server: SshServer) -> None:
    assert ssh_server.host == "127.0.0.1"
    assert ssh_server.host_key_fingerprint.startswith("SHA256:")
    assert ssh_server.client_public_key.startswith("ssh-ed25519 ")
    key = asyncssh.import_public_key(ssh_server.host_public_key)
    assert key.get_fingerprint("sha256") == ssh_server.host_key_fingerprint

    async with await _connect(ssh_server) as conn:
        result = await conn.run("cat /proc/loadavg; id -un", check=True, timeout=10)
    out = str(result.stdout).split("\n")
    assert len(out[0].split()) == 5
    assert out[1] == ssh_server.user


async def test_wrong_host_key_is_not_verifiable(ssh_server: SshServer, tmp_path: Path) -> None:
    other = tmp_path / "other_host_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        await _connect(ssh_server, host_key=other.with_suffix(".pub").read_text())


async def test_restart_with_new_host_key_breaks_old_pin(ssh_server: SshServer) -> None:
    old_key = ssh_server.host_public_key
    old_fp = ssh_server.host_key_fingerprint
    port = ssh_server.port
    ssh_server.restart_with_new_host_key()
    assert ssh_server.port == port
    assert ssh_server.host_public_key != old_key
    assert ssh_server.host_key_fingerprint != old_fp

    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        await _connect(ssh_server, host_key=old_key)
    async with await _connect(ssh_server) as conn:
        result = await conn.run("echo ok", check=True, timeout=10)
    assert str(result.stdout).strip() == "ok"


async def test_stop_start_and_kill(ssh_server: SshServer) -> None:
    async with await _connect(ssh_server) as conn:
        ssh_server.stop()  # drops open sessions too
        with pytest.raises((asyncssh.Error, OSError)):
            await conn.run("echo still-here", check=True, timeout=5)
    with pytest.raises(OSError):
        await _connect(ssh_server)

    ssh_server.start()
    async with await _connect(ssh_server) as conn:
        await conn.run("true", check=True, timeout=10)
        ssh_server.kill()
        with pytest.raises((asyncssh.Error, OSError)):
            await conn.run("echo still-here", check=True, timeout=5)
    with pytest.raises(OSError):
        await _connect(ssh_server)


async def test_encrypted_client_key(ssh_server: SshServer, tmp_path: Path) -> None:
    path = ssh_server.make_encrypted_client_key("pass phrase")
    with pytest.raises(asyncssh.KeyImportError, match="Passphrase must be specified"):
        asyncssh.import_private_key(path.read_text())
    asyncssh.import_private_key(path.read_text(), "pass phrase")

    def public_key(passphrase: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ssh-keygen", "-y", "-P", passphrase, "-f", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )

    assert public_key("").returncode != 0  # really encrypted
    derived = public_key("pass phrase")
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.split()[:2] in [
        line.split()[:2] for line in ssh_server.authorized_keys_path.read_text().splitlines()
    ]
    # asyncssh can only decrypt OpenSSH-format keys with the optional ``bcrypt`` package,
    # so log in with a decrypted copy: this proves the key itself is authorized.
    copy = tmp_path / "decrypted"
    copy.write_bytes(path.read_bytes())
    copy.chmod(0o600)
    subprocess.run(
        ["ssh-keygen", "-q", "-p", "-P", "pass phrase", "-N", "", "-f", str(copy)],
        check=True,
        capture_output=True,
    )
    async with await _connect(ssh_server, key=copy) as conn:
        await conn.run("true", check=True, timeout=10)


async def test_unauthorized_key_is_denied(ssh_server: SshServer) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        await _connect(ssh_server, key=ssh_server.make_unauthorized_key())


async def test_hung_listener_times_out(hung_listener: int) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):  # asyncssh: "Connection timed out" during the handshake
        await asyncssh.connect(
            "127.0.0.1",
            port=hung_listener,
            username="nobody",
            known_hosts=None,
            agent_path=None,
            config=None,
            client_keys=None,
            connect_timeout=1,
        )
    assert 0.9 < time.monotonic() - started < 10


async def test_closed_port_is_refused(closed_port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        await asyncssh.connect(
            "127.0.0.1",
            port=closed_port,
            username="nobody",
            known_hosts=None,
            agent_path=None,
            config=None,
            client_keys=None,
            connect_timeout=5,
        )


def test_secret_service_round_trip(secret_service: SecretService) -> None:
    env = secret_service.env
    assert env["DBUS_SESSION_BUS_ADDRESS"] == secret_service.bus_address
    assert "SSH_AUTH_SOCK" not in env
    assert env["HOME"] == str(secret_service.home)
    result = _run_python(
        """
        import keyring
        print(type(keyring.get_keyring()).__module__)
        keyring.set_password("vpshealth-infra-test", "alice", "pa55 word")
        print(keyring.get_password("vpshealth-infra-test", "alice"))
        keyring.delete_password("vpshealth-infra-test", "alice")
        print(keyring.get_password("vpshealth-infra-test", "alice"))
        """,
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["keyring.backends.SecretService", "pa55 word", "None"]
    # Secrets are stored under the temporary HOME, never in the real one.
    assert list((secret_service.home / ".local/share/keyrings").glob("*.keyring"))


def test_a_keyring_daemon_that_died_is_revived_with_what_it_stored(tmp_path: Path) -> None:
    service = SecretService.start(tmp_path)
    try:
        env = service.env
        stored = _run_python(
            'import keyring; keyring.set_password("vpshealth-infra-test", "bob", "kept")', env
        )
        assert stored.returncode == 0, stored.stderr
        assert service.revive() is False, "a running daemon is left alone"
        before = service.keyring_pid
        os.kill(before, signal.SIGKILL)  # the daemon this test started, by its PID
        service._keyring.wait(timeout=10)
        assert service.revive() is True
        assert service.keyring_pid != before
        read = _run_python(
            'import keyring; print(keyring.get_password("vpshealth-infra-test", "bob"))', env
        )
        assert (read.returncode, read.stdout.strip()) == (0, "kept"), read.stderr
    finally:
        service.close()


def test_no_keyring_env_raises_no_keyring_error(no_keyring_env: dict[str, str]) -> None:
    assert "DBUS_SESSION_BUS_ADDRESS" not in no_keyring_env
    result = _run_python(
        """
        import keyring, keyring.errors
        try:
            keyring.set_password("vpshealth-infra-test", "alice", "x")
        except keyring.errors.NoKeyringError as exc:
            print("NoKeyringError", exc)
        """,
        no_keyring_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("NoKeyringError")


def test_vpshealth_home_is_fresh(vpshealth_home: Path) -> None:
    assert vpshealth_home.is_dir()
    assert not any(vpshealth_home.iterdir())


def test_run_cli_runs_the_vpshealth_module(run_cli: RunCli, vpshealth_home: Path) -> None:
    # The CLI's behaviour is tested elsewhere; here only that the helper runs it.
    result = run_cli("--help", env={**os.environ, "VPSHEALTH_HOME": str(vpshealth_home)})
    assert result.args[:3] == [sys.executable, "-m", "vpshealth"]
    assert isinstance(result.stdout, str)
    assert isinstance(result.stderr, str)

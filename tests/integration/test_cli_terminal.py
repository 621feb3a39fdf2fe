"""Prompts that only appear on a terminal: host-key confirmation and key passphrases.
The CLI runs on a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.integration.support.sshd import SshServer


class Terminal:
    """A child process on a pseudo-terminal, driven like a person at a keyboard."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # child
            try:
                os.execve(sys.executable, [sys.executable, "-m", "vpshealth", *args], env)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        self.screen = ""

    def expect(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"exited before {text!r}; screen:\n{self.screen}")
                self.screen += chunk.decode(errors="replace")

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def wait(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                self.screen += chunk.decode(errors="replace")
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"did not exit; screen:\n{self.screen}")


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "TERM": "dumb"}


def host_names(home: Path) -> list[str]:
    conn = sqlite3.connect(home / "data" / "vpshealth.sqlite3")
    try:
        return [row[0] for row in conn.execute("SELECT name FROM hosts ORDER BY name")]
    finally:
        conn.close()


def add_args(server: SshServer, key: Path) -> list[str]:
    return [
        "host",
        "add",
        "web1",
        "--address",
        server.host,
        "--port",
        str(server.port),
        "--user",
        server.user,
        "--key-file",
        str(key),
    ]


def test_confirming_the_host_key_on_a_terminal(
    ssh_server: SshServer, env: dict[str, str], vpshealth_home: Path
) -> None:
    term = Terminal(add_args(ssh_server, ssh_server.client_key_path), env)
    term.expect(ssh_server.host_key_fingerprint)
    term.expect("[y/N]")
    term.type("y")
    assert term.wait() == 0, term.screen
    assert "First check:" in term.screen
    assert host_names(vpshealth_home) == ["localhost", "web1"]


def test_declining_the_host_key_saves_nothing(
    ssh_server: SshServer, env: dict[str, str], vpshealth_home: Path
) -> None:
    term = Terminal(add_args(ssh_server, ssh_server.client_key_path), env)
    term.expect("[y/N]")
    term.type("n")
    assert term.wait() == 2
    assert "not trusted. Nothing was saved." in term.screen
    assert host_names(vpshealth_home) == ["localhost"]


def test_passphrase_is_asked_on_the_terminal_and_not_echoed(
    ssh_server: SshServer, env: dict[str, str], vpshealth_home: Path
) -> None:
    passphrase = "s3cret phrase"
    key = ssh_server.make_encrypted_client_key(passphrase)
    term = Terminal([*add_args(ssh_server, key), "--trust-host-key"], env)
    term.expect("Passphrase for")
    term.type(passphrase)
    assert term.wait() == 0, term.screen
    assert passphrase not in term.screen
    assert "First check:" in term.screen
    assert host_names(vpshealth_home) == ["localhost", "web1"]


def test_wrong_passphrase_is_refused(
    ssh_server: SshServer, env: dict[str, str], vpshealth_home: Path
) -> None:
    key = ssh_server.make_encrypted_client_key("right one")
    term = Terminal([*add_args(ssh_server, key), "--trust-host-key"], env)
    term.expect("Passphrase for")
    term.type("wrong one")
    assert term.wait() == 2
    assert "passphrase does not unlock the key" in term.screen
    assert host_names(vpshealth_home) == ["localhost"]

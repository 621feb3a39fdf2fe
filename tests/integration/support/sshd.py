"""A real OpenSSH server on 127.0.0.1 for integration tests.

See /work/shared/TEST-INFRA.md ("OpenSSH server on loopback") for the recipe this follows.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.integration.support.procs import free_port, log_tail, stop_process

SSHD = "/usr/sbin/sshd"  # sshd refuses to re-exec unless started by absolute path
SSH_KEYGEN = "ssh-keygen"
TEST_USER = "vhtest"
PRIVSEP_DIR = Path("/run/sshd")  # sshd exits with "Missing privilege separation directory"
_USER_LOCK = Path(tempfile.gettempdir()) / "vpshealth-tests-useradd.lock"


class SshdStartError(RuntimeError):
    """sshd did not come up; the message carries the tail of its log."""


def ensure_test_user(name: str = TEST_USER) -> None:
    """Create the plain login user if missing and make sure sshd accepts it (idempotent).

    A file lock serialises concurrent test processes; ``usermod -p '*'`` is needed because
    a fresh account's ``!`` password makes sshd (without PAM) refuse it as "locked".
    """
    with open(_USER_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(
                ["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True
            )
        if _shadow_hash(name).startswith("!"):
            subprocess.run(["usermod", "-p", "*", name], check=True, capture_output=True)


def _shadow_hash(name: str) -> str:
    for line in Path("/etc/shadow").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return fields[1]
    return ""


def generate_key(path: Path, *, passphrase: str = "", comment: str = "") -> str:
    """Generate an ed25519 key pair (OpenSSH format) at ``path``; return the public key line."""
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_name(path.name + ".pub").read_text().strip()


def fingerprint(pub_path: Path) -> str:
    """``SHA256:...`` exactly as ``ssh-keygen -lf`` prints it."""
    out = subprocess.run(
        [SSH_KEYGEN, "-lf", str(pub_path)], check=True, capture_output=True, text=True
    ).stdout
    return out.split()[1]


@dataclass
class SshServer:
    """A running (or stopped) OpenSSH sshd owned by one test.

    Attributes a test uses: ``host``, ``port``, ``user``, ``client_key_path``,
    ``client_public_key``, ``host_key_fingerprint``, ``host_public_key``; the other fields
    are there for debugging (``workdir``, ``log_path``, ``config_path``...).
    """

    host: str
    port: int
    user: str
    client_key_path: Path
    client_public_key: str
    host_key_fingerprint: str
    host_public_key: str
    host_key_path: Path
    workdir: Path
    config_path: Path
    log_path: Path
    authorized_keys_path: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _key_counter: int = field(default=0, repr=False)

    # ---------------------------------------------------------------- construction
    @classmethod
    def create(cls, *, user: str = TEST_USER, start: bool = True) -> SshServer:
        ensure_test_user(user)
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="vh-sshd-"))
        try:
            # sshd reads AuthorizedKeysFile as the login user: it must be able to traverse.
            workdir.chmod(0o711)
            host_key = workdir / "hostkey0"
            host_pub = generate_key(host_key, comment="vh-test-host")
            client_key = workdir / "client_ed25519"
            client_pub = generate_key(client_key, comment="vh-test-client")
            authorized = workdir / f"authorized_keys.{user}"
            authorized.write_text(client_pub + "\n")
            entry = pwd.getpwnam(user)
            os.chown(authorized, entry.pw_uid, entry.pw_gid)
            authorized.chmod(0o600)
            server = cls(
                host="127.0.0.1",
                port=free_port(),
                user=user,
                client_key_path=client_key,
                client_public_key=client_pub,
                host_key_fingerprint=fingerprint(host_key.with_suffix(".pub")),
                host_public_key=host_pub,
                host_key_path=host_key,
                workdir=workdir,
                config_path=workdir / "sshd_config",
                log_path=workdir / "sshd.log",
                authorized_keys_path=authorized,
            )
            if start:
                server._start_on_free_port()
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return server

    def _start_on_free_port(self, attempts: int = 3) -> None:
        """First start: if another process grabbed the port meanwhile, pick another one."""
        for attempt in range(attempts):
            try:
                self.start()
            except SshdStartError as exc:
                if "Address already in use" not in str(exc) or attempt == attempts - 1:
                    raise
                self.port = free_port()
            else:
                return

    def _write_config(self) -> None:
        self.config_path.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    f"ListenAddress {self.host}",
                    f"HostKey {self.host_key_path}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.workdir}/authorized_keys.%u",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "StrictModes no",
                    "MaxSessions 50",
                    "MaxStartups 50:30:100",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "UseDNS no",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            )
        )

    # ---------------------------------------------------------------- lifecycle
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start sshd on ``self.port`` with the current host key; wait for its banner."""
        if self.running:
            raise RuntimeError(f"sshd already running (pid {self.pid})")
        self._write_config()
        with open(self.log_path, "ab") as log:
            log.write(f"---- starting sshd on {self.host}:{self.port}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                raise SshdStartError(
                    f"sshd exited with code {code} during start-up on port {self.port}; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if self._banner_ready():
                return
            if time.monotonic() > deadline:
                self.kill()
                raise SshdStartError(
                    f"sshd did not send its banner on {self.host}:{self.port} within "
                    f"{timeout}s; log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.02)

    def _banner_ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as sock:
                data = b""
                while b"\n" not in data:
                    chunk = sock.recv(256)
                    if not chunk:
                        return False
                    data += chunk
                return data.startswith(b"SSH-")
        except OSError:
            return False

    def stop(self, *, drop_sessions: bool = True, timeout: float = 10.0) -> None:
        """SIGTERM sshd by PID and wait for it to exit.

        With ``drop_sessions`` (default) the per-connection sshd children go too, so open
        client connections break as when a host goes down; otherwise they keep running,
        as with a plain ``systemctl stop ssh``.
        """
        self._signal(signal.SIGTERM, drop_sessions=drop_sessions, timeout=timeout)

    def kill(self, *, drop_sessions: bool = True) -> None:
        """SIGKILL sshd by PID (a crash), with its per-connection children by default."""
        self._signal(signal.SIGKILL, drop_sessions=drop_sessions, timeout=10.0)

    def _signal(self, sig: int, *, drop_sessions: bool, timeout: float) -> None:
        if self._proc is None:
            return
        stop_process(self._proc, sig=sig, timeout=timeout, tree=drop_sessions)
        self._proc = None

    def restart_with_new_host_key(self) -> None:
        """Generate another host key and restart sshd with it on the same port."""
        self.stop()
        self._key_counter += 1
        host_key = self.workdir / f"hostkey{self._key_counter}"
        self.host_public_key = generate_key(host_key, comment="vh-test-host")
        self.host_key_path = host_key
        self.host_key_fingerprint = fingerprint(host_key.with_suffix(".pub"))
        self.start()

    # ---------------------------------------------------------------- client keys
    def _new_key_path(self, stem: str) -> Path:
        self._key_counter += 1
        return self.workdir / f"{stem}{self._key_counter}"

    def make_encrypted_client_key(self, passphrase: str) -> Path:
        """Another authorized client key, encrypted with ``passphrase``; returns its path."""
        if not passphrase:
            raise ValueError("passphrase must not be empty")
        path = self._new_key_path("client_encrypted")
        pub = generate_key(path, passphrase=passphrase, comment="vh-test-encrypted")
        with open(self.authorized_keys_path, "a") as fh:  # keeps owner and mode
            fh.write(pub + "\n")
        return path

    def make_forced_command_key(self, script: str) -> Path:
        """Another authorized client key whose logins may only run ``script`` (a shell
        script, which finds the requested command in $SSH_ORIGINAL_COMMAND), as with
        ``command="..."`` in a real authorized_keys. Returns the private key's path."""
        path = self._new_key_path("client_forced")
        pub = generate_key(path, comment="vh-test-forced")
        script_path = path.with_suffix(".sh")
        script_path.write_text("#!/bin/sh\n" + script)
        script_path.chmod(0o755)
        with open(self.authorized_keys_path, "a") as fh:  # keeps owner and mode
            fh.write(f'command="{script_path}" {pub}\n')
        return path

    def session_processes(self) -> list[psutil.Process]:
        """The processes sshd started for its sessions (the commands the clients run)."""
        if self._proc is None:
            return []
        try:
            return psutil.Process(self._proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def make_unauthorized_key(self) -> Path:
        """A valid, unencrypted key that is NOT in authorized_keys; returns its path."""
        path = self._new_key_path("client_unauthorized")
        generate_key(path, comment="vh-test-unauthorized")
        return path

    # ---------------------------------------------------------------- teardown
    def close(self) -> None:
        """Stop sshd (and its connection children) and delete the working directory."""
        try:
            self.kill()
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.workdir)

"""A private D-Bus session bus with gnome-keyring-daemon serving the Secret Service API.

Nothing touches the real session: the bus listens on a socket in a temporary directory,
has no service directories (so D-Bus never auto-activates an unmanaged gnome-keyring),
and HOME / XDG_* point into the temporary directory.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

from tests.integration.support.procs import log_tail, stop_process

DBUS_DAEMON = "dbus-daemon"
GNOME_KEYRING_DAEMON = "gnome-keyring-daemon"
SECRETS_BUS_NAME = "org.freedesktop.secrets"
SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"

log = logging.getLogger(__name__)

# Environment variables that would make a child talk to the real session / agent.
_STRIP_VARS = (
    "DBUS_SESSION_BUS_ADDRESS",
    "SSH_AUTH_SOCK",
    "SSH_AGENT_PID",
    "GNOME_KEYRING_CONTROL",
    "PYTHON_KEYRING_BACKEND",
    "KEYRING_PROPERTY_KEYRING_PATH",
)

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>{listen}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

_VERIFY_SCRIPT = """
import keyring
kr = keyring.get_keyring()
print(type(kr).__module__ + "." + type(kr).__qualname__)
keyring.set_password("vpshealth-test-infra-probe", "probe", "s3cret-probe")
print(keyring.get_password("vpshealth-test-infra-probe", "probe"))
keyring.delete_password("vpshealth-test-infra-probe", "probe")
"""


class SecretServiceError(RuntimeError):
    """The private Secret Service could not be started or does not work."""


def isolated_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) with HOME and XDG_* inside ``home``."""
    env = dict(os.environ if base is None else base)
    for var in _STRIP_VARS:
        env.pop(var, None)
    runtime = home / ".run"
    for path in (home, home / ".local/share", home / ".config", home / ".cache", runtime):
        path.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_RUNTIME_DIR=str(runtime),
    )
    return env


@dataclass
class SecretService:
    """A running private session bus + gnome-keyring-daemon (secrets component, unlocked).

    ``env`` returns a fresh copy each time: ``os.environ`` plus DBUS_SESSION_BUS_ADDRESS,
    HOME and XDG_* of this instance, without SSH_AUTH_SOCK — for ``vpshealth``
    subprocesses. The keyring is shared by the whole test session: use unique service
    names per test.
    """

    bus_address: str
    home: Path
    password: str
    dbus_pid: int
    keyring_pid: int
    log_path: Path
    _env: dict[str, str] = field(repr=False)
    _dbus: subprocess.Popen[str] = field(repr=False)
    _keyring: subprocess.Popen[bytes] = field(repr=False)

    @property
    def env(self) -> dict[str, str]:
        return dict(self._env)

    @classmethod
    def start(cls, root: Path, *, password: str = "test", timeout: float = 15.0) -> SecretService:
        home = root / "home"
        env = isolated_env(home)
        log_path = root / "daemons.log"
        config = root / "session-bus.conf"
        socket_path = root / "bus.sock"
        # sun_path holds 108 bytes; with a long --basetemp let dbus-daemon pick a /tmp path.
        listen = f"unix:path={socket_path}" if len(str(socket_path)) < 100 else "unix:tmpdir=/tmp"
        config.write_text(_BUS_CONFIG.format(listen=listen))

        with open(log_path, "ab") as log:
            dbus = subprocess.Popen(
                [
                    DBUS_DAEMON,
                    f"--config-file={config}",
                    "--nofork",
                    "--nopidfile",
                    "--print-address=1",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                text=True,
            )
        assert dbus.stdout is not None
        with dbus.stdout:  # the address is printed once the bus is listening
            address = dbus.stdout.readline().strip()
        if not address:
            stop_process(dbus)
            raise SecretServiceError(f"dbus-daemon printed no address:\n{log_tail(log_path)}")
        env["DBUS_SESSION_BUS_ADDRESS"] = address

        keyring_proc = _start_keyring_daemon(env, log_path, password)
        service = cls(
            bus_address=address,
            home=home,
            password=password,
            dbus_pid=dbus.pid,
            keyring_pid=keyring_proc.pid,
            log_path=log_path,
            _env=env,
            _dbus=dbus,
            _keyring=keyring_proc,
        )
        try:
            service._wait_for_name(timeout)
            service.verify()
        except BaseException:
            service.close()
            raise
        return service

    def revive(self, timeout: float = 15.0) -> bool:
        """Start gnome-keyring-daemon again on the same bus if it has died; True if it had.

        gnome-keyring 42 aborts on a GLib assertion (``gkd_secret_service_get_pkcs11_session:
        assertion 'client' failed``) when a client vanishes in the middle of a request, as a
        service SIGKILLed by a test may. Its keyring file is in ``home``, so what was stored
        is there again after the restart."""
        if self._keyring.poll() is None:
            return False
        log.warning(
            "gnome-keyring-daemon (PID %d) exited with %s; starting it again:\n%s",
            self.keyring_pid, self._keyring.returncode, log_tail(self.log_path),
        )  # fmt: skip
        self._keyring = _start_keyring_daemon(self._env, self.log_path, self.password)
        self.keyring_pid = self._keyring.pid
        self._wait_for_name(timeout)
        return True

    def _wait_for_name(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with open_dbus_connection(bus=self.bus_address) as conn:
            while True:
                code = self._keyring.poll()
                if code is not None:
                    raise SecretServiceError(
                        f"gnome-keyring-daemon exited with code {code}:\n{log_tail(self.log_path)}"
                    )
                reply = conn.send_and_get_reply(
                    message_bus.NameHasOwner(SECRETS_BUS_NAME), timeout=5
                )
                if reply.body[0]:
                    return
                if time.monotonic() > deadline:
                    raise SecretServiceError(
                        f"{SECRETS_BUS_NAME} not owned on {self.bus_address} after {timeout}s:\n"
                        f"{log_tail(self.log_path)}"
                    )
                time.sleep(0.02)

    def verify(self) -> None:
        """A subprocess with ``env`` must see the SecretService backend and round-trip."""
        result = subprocess.run(
            [sys.executable, "-c", _VERIFY_SCRIPT],
            env=self._env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        lines = result.stdout.split()
        if result.returncode != 0 or lines != [SECRET_SERVICE_BACKEND, "s3cret-probe"]:
            raise SecretServiceError(
                "keyring in a subprocess does not use the private Secret Service "
                f"(exit {result.returncode}, expected backend {SECRET_SERVICE_BACKEND}):\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n"
                f"daemon log:\n{log_tail(self.log_path)}"
            )

    def close(self) -> None:
        """Stop gnome-keyring-daemon, then the bus, by the PIDs started here."""
        try:
            stop_process(self._keyring)
        finally:
            stop_process(self._dbus)


def _start_keyring_daemon(
    env: dict[str, str], log_path: Path, password: str
) -> subprocess.Popen[bytes]:
    # --foreground: the daemon stays our child, so its PID is the Popen's PID (without it,
    # gnome-keyring-daemon forks and the PID we know is gone).
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [GNOME_KEYRING_DAEMON, "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
    assert proc.stdin is not None
    with proc.stdin:  # --unlock reads the login keyring's password until EOF
        proc.stdin.write(password.encode())
    return proc

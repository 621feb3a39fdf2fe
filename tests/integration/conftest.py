"""Fixtures that start REAL peers for the integration tests.

Each fixture starts its own processes, tears them down by the PIDs it started, and
``pytest.skip``s with the reason when a prerequisite is missing (not root, a binary not
installed). Under ``CI=true`` such a skip is turned into a failure by ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.cli import run_cli as run_cli_impl
from tests.integration.support.desktop import (
    DBUS_MONITOR,
    DUNST,
    IMPORT,
    TRAYER,
    XVFB,
    Desktop,
)
from tests.integration.support.dockerd import (
    BUSYBOX,
    DOCKER,
    DOCKERD,
    DockerEngine,
    is_static_elf,
)
from tests.integration.support.listener import HungListener
from tests.integration.support.procs import free_port, require_binary, require_root
from tests.integration.support.secret_service import (
    DBUS_DAEMON,
    GNOME_KEYRING_DAEMON,
    SecretService,
    isolated_env,
)
from tests.integration.support.smtp import (
    SmtpCertificates,
    SmtpServer,
    SmtpServerFactory,
    make_certificates,
)
from tests.integration.support.ssh_connection import CountingConnection, connection
from tests.integration.support.sshd import SSH_KEYGEN, SSHD, SshServer


@pytest.fixture
def ssh_server() -> Iterator[SshServer]:
    """A real OpenSSH sshd on 127.0.0.1:<free port>, logging in as ``vhtest`` by key."""
    require_root("ssh_server (useradd, sshd)")
    require_binary(SSHD, package="openssh-server")
    require_binary(SSH_KEYGEN, package="openssh-client")
    server = SshServer.create()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def hung_listener() -> Iterator[int]:
    """Port of a TCP listener on 127.0.0.1 that accepts and never sends anything."""
    listener = HungListener()
    try:
        yield listener.port
    finally:
        listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused)."""
    return free_port()


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretService]:
    """A private session bus + unlocked gnome-keyring; ``.env`` is for CLI subprocesses."""
    require_binary(DBUS_DAEMON, package="dbus")
    require_binary(GNOME_KEYRING_DAEMON, package="gnome-keyring")
    service = SecretService.start(tmp_path_factory.mktemp("secret-service"))
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def no_keyring_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``keyring`` has no usable backend (NoKeyringError)."""
    env = isolated_env(tmp_path / "no-keyring-home")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return env


@pytest.fixture
def vpshealth_home(tmp_path: Path) -> Path:
    """A fresh, empty directory to use as VPSHEALTH_HOME."""
    home = tmp_path / "vpshealth-home"
    home.mkdir()
    return home


@pytest.fixture
def run_cli() -> RunCli:
    """``run_cli(*args, env=..., input=None, timeout=60)`` runs ``python -m vpshealth``.

    Pass e.g. ``env={**secret_service.env, "VPSHEALTH_HOME": str(vpshealth_home)}``;
    ``env`` defaults to a copy of ``os.environ`` without SSH_AUTH_SOCK. Returns the
    ``CompletedProcess[str]`` (stdout/stderr captured); the exit code is not checked.
    """
    return run_cli_impl


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    """One private dockerd for the whole run (``DockerEngine``; start-up paid once).

    Its socket ``engine.socket_path`` (``str``) is ``root:docker`` 0660 in a 0711 directory
    under /tmp, and ``vhtest`` (the ``ssh_server`` login) is in group ``docker``; the image
    ``vhbusy:latest`` (busybox-static) is imported. Prefer ``docker_scenario`` in tests: it
    also resets the engine between tests.
    """
    require_root("docker_engine (dockerd, usermod -aG docker)")
    require_binary(DOCKERD, package="docker.io")
    require_binary(DOCKER, package="docker.io")
    require_binary(BUSYBOX, package="busybox-static")
    if not is_static_elf(BUSYBOX):
        pytest.skip(f"{BUSYBOX} is not statically linked: apt-get install busybox-static")
    engine = DockerEngine.create()
    try:
        yield engine
    finally:
        engine.close()


def _reset_docker_engine(engine: DockerEngine) -> None:
    """Undo what a test may have left: engine stopped, socket unreadable, containers."""
    if not engine.running:
        engine.start()
    engine.make_socket_readable()
    engine.remove_all()


@pytest.fixture
def docker_scenario(docker_engine: DockerEngine) -> Iterator[DockerEngine]:
    """The session's ``DockerEngine``, running, socket readable, with no containers.

    At teardown every container on the engine is removed (``docker rm -f``) and the
    engine is started again / its socket made readable again if the test changed that,
    so tests never see each other's containers and may use plain names ("web", "db").
    The engine is per pytest process, so nothing else creates containers on it.
    """
    _reset_docker_engine(docker_engine)
    try:
        yield docker_engine
    finally:
        _reset_docker_engine(docker_engine)


@pytest.fixture
def cli_env(secret_service: SecretService, vpshealth_home: Path) -> dict[str, str]:
    """The environment for `vpshealth` subprocesses: the test keyring, a fresh
    VPSHEALTH_HOME, timeouts short enough for tests, and CPU/memory/disk thresholds out of
    reach, so that a busy test machine never changes a host's state (thresholds have unit
    tests). A keyring daemon that died in an earlier test is started again first."""
    secret_service.revive()
    return {
        **secret_service.env,
        "VPSHEALTH_HOME": str(vpshealth_home),
        "VPSHEALTH_CONNECT_TIMEOUT": "5",
        "VPSHEALTH_COMMAND_TIMEOUT": "15",
        "VPSHEALTH_WARNING_PERCENT": "1000",
        "VPSHEALTH_CRITICAL_PERCENT": "1000",
    }


@pytest.fixture
def load_out_of_reach(cli_env: dict[str, str], run_cli: RunCli) -> None:
    """The load rule out of reach in ``cli_env``'s VPSHEALTH_HOME too (``vpshealth rules``):
    the test machine's load per core (other workers, other jobs) must not make a host
    critical in a test about something else."""
    done = run_cli(
        "rules", "--set", "load.warning=1000", "--set", "load.critical=1000", env=cli_env
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def smtp_certs(tmp_path: Path) -> SmtpCertificates:
    """A private CA (``ca_file``) and a server certificate for localhost and 127.0.0.1."""
    return make_certificates(tmp_path / "smtp-certs")


@pytest.fixture
def smtp_server(smtp_certs: SmtpCertificates) -> Iterator[SmtpServerFactory]:
    """``smtp_server(starttls=..., require_starttls=..., implicit_tls=..., credentials=...)``
    starts a real aiosmtpd on 127.0.0.1 (see ``support/smtp.py``); all are stopped at the
    end."""
    started: list[SmtpServer] = []

    def start(**options: Any) -> SmtpServer:
        server = SmtpServer(smtp_certs, **options)
        server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
async def conn(ssh_server: SshServer) -> AsyncIterator[CountingConnection]:
    """A connection as ``tests.integration.support.ssh_connection.connection`` makes it."""
    connection_ = connection(ssh_server)
    yield connection_
    await connection_.close()


@pytest.fixture
def desktop(tmp_path: Path, secret_service: SecretService) -> Iterator[Desktop]:
    """A real X desktop (Xvfb, a system tray, a notification daemon) for the app's end-to-end
    tests; see tests/integration/support/desktop.py."""
    for binary, package in (
        (XVFB, "xvfb"),
        (TRAYER, "trayer"),
        (DUNST, "dunst"),
        (DBUS_MONITOR, "dbus"),
        (IMPORT, "imagemagick"),
    ):
        require_binary(binary, package=package)
    workdir = tmp_path / "desktop"
    workdir.mkdir()
    session = Desktop.start(workdir, secret_service.env)
    try:
        yield session
    finally:
        session.close()

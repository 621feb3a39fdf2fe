"""Opening a byte stream to a host's Docker socket, and saying plainly why it failed."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sys
from collections.abc import Mapping
from enum import StrEnum
from typing import cast

import asyncssh

from vpshealth.collectors.docker_http import Opener, StreamReader, StreamWriter
from vpshealth.collectors.remote_commands import DOCKER_SOCKET_DIAGNOSIS
from vpshealth.collectors.ssh import SshConnection

log = logging.getLogger(__name__)


class DockerAccess(StrEnum):
    ABSENT = "absent"
    DENIED = "denied"
    UNAVAILABLE = "unavailable"


class DockerAccessError(Exception):
    def __init__(self, access: DockerAccess, message: str) -> None:
        super().__init__(message)
        self.access = access
        self.message = message


def denied_message(user: str, socket: str) -> str:
    return (
        f"the Docker socket {socket} is not open to '{user}': add {user} to the docker group "
        "on the server (`usermod -aG docker " + user + "`) or connect as root"
    )


def ssh_opener(ssh: SshConnection, socket: str) -> Opener:
    """Streams through the host's SSH connection (direct-streamlocal: nothing is opened on
    the server's network). On failure, a fixed command tells missing / denied / daemon down."""

    async def open_stream() -> tuple[StreamReader, StreamWriter]:
        try:
            return await ssh.open_unix_stream(socket)
        except asyncssh.ChannelOpenError as exc:
            reason = exc.reason
        verdict = (await ssh.run(DOCKER_SOCKET_DIAGNOSIS, input_text=socket + "\n")).strip()
        user = ssh.host.user
        if verdict == "missing":
            raise DockerAccessError(DockerAccess.ABSENT, f"no Docker socket at {socket}")
        if verdict == "denied":
            raise DockerAccessError(DockerAccess.DENIED, denied_message(user, socket))
        if verdict == "not-a-socket":
            raise DockerAccessError(
                DockerAccess.UNAVAILABLE, f"{socket} exists but is not a socket"
            )
        raise DockerAccessError(
            DockerAccess.UNAVAILABLE,
            f"the Docker daemon does not answer on {socket} ({reason or 'connection failed'}); "
            "is it running?",
        )

    return open_stream


WINDOWS_PIPE = r"\\.\pipe\docker_engine"
"""Docker Desktop's named pipe on Windows."""
PIPE_PREFIX = "\\\\.\\pipe\\"
MACOS_SOCKETS = ("~/.docker/run/docker.sock", "/var/run/docker.sock")
"""Docker Desktop's socket on macOS: in the user's home since 4.13; /var/run/docker.sock is
the optional link to it (and where Colima or OrbStack can be linked)."""
LINUX_SOCKET = "/var/run/docker.sock"


def local_socket_path(
    environ: Mapping[str, str] | None = None, platform: str = sys.platform
) -> str | None:
    """This computer's Docker Engine: DOCKER_HOST when it is a unix:// or npipe:// address,
    else the system's default (a named pipe on Windows). None for a TCP DOCKER_HOST, which is
    not supported."""
    docker_host = (os.environ if environ is None else environ).get("DOCKER_HOST", "")
    if docker_host.startswith("unix://"):
        return docker_host.removeprefix("unix://")
    if docker_host.startswith("npipe://"):
        # npipe:////./pipe/docker_engine, as the docker CLI writes it
        return docker_host.removeprefix("npipe://").replace("/", "\\")
    if docker_host:
        return None
    if platform == "win32":
        return WINDOWS_PIPE
    if platform == "darwin":
        candidates = [os.path.expanduser(path) for path in MACOS_SOCKETS]
        return next((path for path in candidates if os.path.exists(path)), candidates[0])
    return LINUX_SOCKET


def local_opener(socket: str, user: str) -> Opener:
    """Streams to this computer's Docker Engine: a Unix socket, or on Windows a named pipe."""
    if socket.startswith(PIPE_PREFIX):
        return _pipe_opener(socket, user)

    async def open_stream() -> tuple[StreamReader, StreamWriter]:
        open_unix_connection = getattr(asyncio, "open_unix_connection", None)
        if open_unix_connection is None:
            raise DockerAccessError(
                DockerAccess.ABSENT,
                f"no local Docker: {socket} is a Unix socket, which this system cannot open; "
                f"unset DOCKER_HOST to use Docker Desktop's pipe {WINDOWS_PIPE}",
            )
        try:
            return cast("tuple[StreamReader, StreamWriter]", await open_unix_connection(socket))
        except FileNotFoundError:
            raise DockerAccessError(DockerAccess.ABSENT, f"no Docker socket at {socket}") from None
        except PermissionError:
            raise DockerAccessError(DockerAccess.DENIED, denied_message(user, socket)) from None
        except OSError as exc:
            if exc.errno in (errno.ECONNREFUSED, errno.ENOTSOCK, errno.ECONNRESET):
                raise DockerAccessError(
                    DockerAccess.UNAVAILABLE,
                    f"the Docker daemon does not answer on {socket}; is it running?",
                ) from None
            raise DockerAccessError(
                DockerAccess.UNAVAILABLE, f"cannot open {socket}: {exc.strerror or exc}"
            ) from None

    return open_stream


def _pipe_opener(pipe: str, user: str) -> Opener:
    """asyncio's proactor loop (the Windows default, and qasync's there) connects to named
    pipes with ``create_pipe_connection``; other loops cannot."""

    async def open_stream() -> tuple[StreamReader, StreamWriter]:
        loop = asyncio.get_running_loop()
        create_pipe_connection = getattr(loop, "create_pipe_connection", None)
        if create_pipe_connection is None:
            raise DockerAccessError(
                DockerAccess.ABSENT,
                f"no local Docker: this event loop cannot open the named pipe {pipe}",
            )
        reader = asyncio.StreamReader(loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        try:
            transport, _ = await create_pipe_connection(lambda: protocol, pipe)
        except FileNotFoundError:
            raise DockerAccessError(
                DockerAccess.ABSENT, f"no Docker pipe at {pipe}; is Docker Desktop running?"
            ) from None
        except PermissionError:
            raise DockerAccessError(
                DockerAccess.DENIED,
                f"the Docker pipe {pipe} is not open to '{user}': add {user} to the "
                "docker-users group, then sign out and in again",
            ) from None
        except OSError as exc:
            raise DockerAccessError(
                DockerAccess.UNAVAILABLE, f"cannot open {pipe}: {exc.strerror or exc}"
            ) from None
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)

    return open_stream

"""Opening a byte stream to a host's Docker socket, and saying plainly why it failed."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from enum import StrEnum

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


def local_socket_path() -> str | None:
    """This computer's Docker socket: DOCKER_HOST when it is a unix:// address, else the
    default path. None for a TCP DOCKER_HOST, which is not supported."""
    docker_host = os.environ.get("DOCKER_HOST", "")
    if not docker_host:
        return "/var/run/docker.sock"
    if docker_host.startswith("unix://"):
        return docker_host.removeprefix("unix://")
    return None


def local_opener(socket: str, user: str) -> Opener:
    async def open_stream() -> tuple[StreamReader, StreamWriter]:
        try:
            return await asyncio.open_unix_connection(socket)
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

"""This computer's Docker Engine: where it listens on each system, and opening it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from vpshealth.collectors.docker_access import (
    WINDOWS_PIPE,
    DockerAccess,
    DockerAccessError,
    local_opener,
    local_socket_path,
)


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", "/var/run/docker.sock"),
        ({}, "win32", r"\\.\pipe\docker_engine"),
        (
            {"DOCKER_HOST": "unix:///run/user/1000/docker.sock"},
            "linux",
            "/run/user/1000/docker.sock",
        ),
        ({"DOCKER_HOST": "npipe:////./pipe/docker_engine"}, "win32", r"\\.\pipe\docker_engine"),
        (
            {"DOCKER_HOST": "npipe:////./pipe/dockerDesktopLinuxEngine"},
            "win32",
            r"\\.\pipe\dockerDesktopLinuxEngine",
        ),
        ({"DOCKER_HOST": "tcp://10.0.0.2:2375"}, "linux", None),
    ],
)
def test_where_the_engine_listens(
    environ: dict[str, str], platform: str, expected: str | None
) -> None:
    assert local_socket_path(environ, platform) == expected


def test_macos_prefers_docker_desktop_socket_in_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    desktop_socket = tmp_path / ".docker" / "run" / "docker.sock"
    assert local_socket_path({}, "darwin") == str(desktop_socket)  # nothing there yet
    desktop_socket.parent.mkdir(parents=True)
    desktop_socket.touch()
    assert local_socket_path({}, "darwin") == str(desktop_socket)


async def test_a_loop_without_pipes_says_no_local_docker() -> None:
    with pytest.raises(DockerAccessError) as info:
        await local_opener(WINDOWS_PIPE, "ann")()
    assert info.value.access is DockerAccess.ABSENT
    assert "no local Docker" in info.value.message
    assert WINDOWS_PIPE in info.value.message


async def test_a_unix_socket_without_unix_sockets_says_no_local_docker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(asyncio, "open_unix_connection", raising=False)
    with pytest.raises(DockerAccessError) as info:
        await local_opener("/var/run/docker.sock", "ann")()
    assert info.value.access is DockerAccess.ABSENT
    assert "unset DOCKER_HOST" in info.value.message


class PipeLoop(asyncio.SelectorEventLoop):
    """Stands in for the proactor loop: its pipe names lead to Unix sockets."""

    pipes: ClassVar[dict[str, str]] = {}

    async def create_pipe_connection(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], address: str
    ) -> tuple[Any, Any]:
        if address not in self.pipes:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return await self.create_unix_connection(protocol_factory, self.pipes[address])


@pytest.mark.posix_only
def test_the_pipe_carries_requests_and_answers(tmp_path: Path) -> None:
    socket = str(tmp_path / "engine.sock")
    PipeLoop.pipes = {WINDOWS_PIPE: socket}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        writer.write(b"got " + request)
        await writer.drain()
        writer.close()

    async def exchange() -> bytes:
        server = await asyncio.start_unix_server(answer, socket)
        async with server:
            reader, writer = await local_opener(WINDOWS_PIPE, "ann")()
            writer.write(b"GET /_ping\n")
            await writer.drain()
            reply = await reader.read()
            writer.close()
            return reply

    with asyncio.Runner(loop_factory=PipeLoop) as runner:
        assert runner.run(exchange()) == b"got GET /_ping\n"
        with pytest.raises(DockerAccessError) as info:
            runner.run(local_opener(r"\\.\pipe\elsewhere", "ann")())
    assert info.value.access is DockerAccess.ABSENT
    assert "is Docker Desktop running?" in info.value.message

"""The Docker HTTP client against a unix-socket server on this machine that answers with
canned bytes: framing, chunking, keep-alive and garbage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpshealth.collectors.docker_http import (
    DockerHttp,
    DockerHttpError,
    Opener,
    StreamReader,
    StreamWriter,
    stream_lines,
)

# The stand-in engine listens on a Unix socket; on Windows the client's peer is a named pipe.
pytestmark = pytest.mark.posix_only

Answer = Callable[[bytes], bytes]


async def serve(path: Path, answer: Answer) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                writer.write(answer(request))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_unix_server(handle, path=str(path))


def opener_for(path: Path) -> Opener:
    async def open_stream() -> tuple[StreamReader, StreamWriter]:
        return await asyncio.open_unix_connection(str(path))

    return open_stream


def response(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def chunked(*parts: bytes) -> bytes:
    body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n"


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "docker.sock"


async def test_keep_alive_requests_share_one_stream(sock: Path) -> None:
    seen: list[bytes] = []

    def answer(request: bytes) -> bytes:
        seen.append(request.split(b"\r\n")[0])
        return response(b'{"n": %d}' % len(seen))

    opened = 0
    base = opener_for(sock)

    async def counting() -> tuple[StreamReader, StreamWriter]:
        nonlocal opened
        opened += 1
        return await base()

    server = await serve(sock, answer)
    async with server:
        http = DockerHttp(counting)
        assert await http.get_ok("/containers/json?all=1") == b'{"n": 1}'
        assert await http.get_ok("/version") == b'{"n": 2}'
        http.close()
    assert opened == 1
    assert seen == [b"GET /containers/json?all=1 HTTP/1.1", b"GET /version HTTP/1.1"]


async def test_chunked_bodies_are_joined(sock: Path) -> None:
    server = await serve(sock, lambda _r: chunked(b'{"a":', b" 1}"))
    async with server:
        http = DockerHttp(opener_for(sock))
        assert await http.get_ok("/x") == b'{"a": 1}'
        http.close()


async def test_error_status_carries_dockers_message(sock: Path) -> None:
    body = b'{"message":"No such container: abc"}'
    server = await serve(sock, lambda _r: response(body, "404 Not Found"))
    async with server:
        http = DockerHttp(opener_for(sock))
        with pytest.raises(DockerHttpError) as caught:
            await http.get_ok("/containers/abc/json")
        http.close()
    assert caught.value.status == 404
    assert "No such container: abc" in caught.value.message


async def test_a_server_that_is_not_http_is_an_error(sock: Path) -> None:
    server = await serve(sock, lambda _r: b"SSH-2.0-OpenSSH\r\n\r\n")
    async with server:
        http = DockerHttp(opener_for(sock))
        with pytest.raises(DockerHttpError, match="did not answer in HTTP"):
            await http.get("/x")
        http.close()


async def test_event_stream_lines_split_across_chunks(sock: Path) -> None:
    server = await serve(sock, lambda _r: chunked(b'{"a":1}\n{"b"', b":2}\n", b'{"c":3}\n'))
    async with server:
        lines = [line async for line in stream_lines(opener_for(sock), "/events")]
    assert lines == [b'{"a":1}', b'{"b":2}', b'{"c":3}']


def test_paths_with_spaces_or_newlines_are_refused() -> None:
    async def never() -> tuple[StreamReader, StreamWriter]:
        raise AssertionError("must not connect")

    async def run() -> None:
        http = DockerHttp(never)
        for path in ("/a b", "/a\r\nHost: x", "relative"):
            with pytest.raises(ValueError, match="bad request path"):
                await http.get(path)

    asyncio.run(run())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=st.binary(max_size=400))
def test_garbage_answers_raise_only_docker_http_errors(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / f"g{abs(hash(garbage)) % 10**9}.sock"

    async def run() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(garbage)
            await writer.drain()
            writer.close()

        server = await asyncio.start_unix_server(handle, path=str(path))
        async with server:
            http = DockerHttp(opener_for(path))
            try:
                await asyncio.wait_for(http.get("/x"), timeout=5)
            except DockerHttpError:
                pass
            finally:
                http.close()

    asyncio.run(run())
    path.unlink(missing_ok=True)

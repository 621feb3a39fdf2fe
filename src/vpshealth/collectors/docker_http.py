"""A small HTTP/1.1 client for the Docker Engine API over any byte stream: a remote unix
socket opened through the SSH connection, or the local socket. Async, no threads.

Paths are unversioned, so the engine answers in its own current API version.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024


class StreamReader(Protocol):
    async def readuntil(self, separator: bytes, /) -> bytes: ...

    async def readexactly(self, n: int) -> bytes: ...


class StreamWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


Opener = Callable[[], Awaitable[tuple[StreamReader, StreamWriter]]]


class DockerHttpError(Exception):
    """The engine answered with an error status, or not in HTTP."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class DockerHttp:
    """Requests on one keep-alive stream, one at a time. Reopens the stream after an error."""

    def __init__(self, opener: Opener) -> None:
        self._opener = opener
        self._stream: tuple[StreamReader, StreamWriter] | None = None
        self._lock = asyncio.Lock()

    async def get(self, path: str) -> Response:
        request = _request_bytes(path)
        async with self._lock:
            if self._stream is None:
                self._stream = await self._opener()
            reader, writer = self._stream
            try:
                writer.write(request)
                response = await _read_response(reader)
            except BaseException:
                self.close()
                raise
            if response.headers.get("connection", "").lower() == "close":
                self.close()
            return response

    async def get_ok(self, path: str) -> bytes:
        response = await self.get(path)
        if response.status != 200:
            raise DockerHttpError(response.status, _error_message(response))
        return response.body

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream[1].close()


async def stream_lines(opener: Opener, path: str) -> AsyncIterator[bytes]:
    """GET a streaming endpoint (``/events``) on its own stream and yield its lines."""
    request = _request_bytes(path)
    reader, writer = await opener()
    try:
        writer.write(request)
        status, headers = await _read_head(reader)
        if status != 200:
            body = await _read_body(reader, headers)
            raise DockerHttpError(status, _error_message(Response(status, headers, body)))
        chunks = (
            _chunks(reader)
            if headers.get("transfer-encoding", "").lower() == "chunked"
            else _raw(reader)
        )
        pending = b""
        async for chunk in chunks:
            pending += chunk
            if len(pending) > MAX_LINE_BYTES:
                raise DockerHttpError(0, "an event line was too long")
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    yield line
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _request_bytes(path: str) -> bytes:
    if not path.startswith("/") or any(c in path for c in " \r\n"):
        raise ValueError("bad request path")
    return f"GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: vpshealth\r\n\r\n".encode()


async def _read_head(reader: StreamReader) -> tuple[int, dict[str, str]]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise DockerHttpError(0, "the answer's headers were too long") from None
    except asyncio.IncompleteReadError:
        raise DockerHttpError(0, "the connection closed before an answer") from None
    if len(head) > MAX_HEADER_BYTES:
        raise DockerHttpError(0, "the answer's headers were too long")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise DockerHttpError(0, "the socket did not answer in HTTP")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_response(reader: StreamReader) -> Response:
    status, headers = await _read_head(reader)
    return Response(status, headers, await _read_body(reader, headers))


async def _read_body(reader: StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        async for chunk in _chunks(reader):
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise DockerHttpError(0, "the answer was too large")
        return bytes(body)
    length_text = headers.get("content-length", "0")
    if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
        raise DockerHttpError(0, "the answer had a bad or too large length")
    try:
        return await reader.readexactly(int(length_text))
    except asyncio.IncompleteReadError:
        raise DockerHttpError(0, "the connection closed in the middle of an answer") from None


async def _chunks(reader: StreamReader) -> AsyncIterator[bytes]:
    while True:
        try:
            size_line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            raise DockerHttpError(0, "the connection closed in the middle of an answer") from None
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise DockerHttpError(0, "bad chunk in the answer") from None
        if size < 0 or size > MAX_BODY_BYTES:
            raise DockerHttpError(0, "bad chunk in the answer")
        try:
            data = await reader.readexactly(size + 2)
        except asyncio.IncompleteReadError:
            raise DockerHttpError(0, "the connection closed in the middle of an answer") from None
        if size == 0:
            return
        yield data[:-2]


async def _raw(reader: StreamReader) -> AsyncIterator[bytes]:
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                yield exc.partial
            return
        yield line


def _error_message(response: Response) -> str:
    text = response.body[:4096].decode("utf-8", "replace")
    if text.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            message = json.loads(text).get("message")
            if isinstance(message, str):
                text = message
    return f"Docker answered {response.status}: {text.strip()[:200]}"

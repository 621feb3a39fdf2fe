"""The collector against a unix-socket server that answers with recorded engine responses:
containers that vanish between the listing and their inspect, stats of stopped ones, and a
broken engine."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from vpshealth.collectors.docker_access import DockerAccess, DockerAccessError
from vpshealth.collectors.docker_collector import DockerCollector
from vpshealth.collectors.docker_http import Opener, StreamReader, StreamWriter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "docker"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def response(body: bytes, status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class FakeEngine:
    """Answers GETs from a table of path prefix -> response; counts requests per path."""

    def __init__(self, routes: dict[str, bytes]) -> None:
        self.routes = routes
        self.requests: list[str] = []

    def answer(self, request: bytes) -> bytes:
        path = request.split(b" ")[1].decode()
        self.requests.append(path)
        for prefix, answer in self.routes.items():
            if path.startswith(prefix):
                return answer
        return response(b'{"message":"No such container"}', "404 Not Found")

    async def serve(self, path: Path) -> asyncio.Server:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    writer.write(self.answer(await reader.readuntil(b"\r\n\r\n")))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        return await asyncio.start_unix_server(handle, path=str(path))


def listing_of(names: list[str]) -> tuple[bytes, dict[str, str]]:
    rows = json.loads(fixture("containers_list.json"))
    chosen = [r for r in rows if r["Names"][0].lstrip("/") in names]
    return json.dumps(chosen).encode(), {r["Names"][0].lstrip("/"): r["Id"] for r in chosen}


def opener(path: Path) -> Opener:
    async def open_stream() -> tuple[StreamReader, StreamWriter]:
        return await asyncio.open_unix_connection(str(path))

    return open_stream


@pytest.mark.posix_only  # the stand-in engine listens on a Unix socket
async def test_a_container_removed_between_listing_and_inspect_is_skipped(tmp_path: Path) -> None:
    body, ids = listing_of(["blog-db-1", "coolify-sentinel"])
    engine = FakeEngine(
        {
            "/containers/json": response(body),
            f"/containers/{ids['blog-db-1']}/json": response(fixture("inspect_blog-db-1.json")),
            f"/containers/{ids['blog-db-1']}/stats": response(fixture("stats_web-abc.json")),
        }
    )
    sock = tmp_path / "docker.sock"
    async with await engine.serve(sock):
        collector = DockerCollector(opener(sock), streams=2, stats_streams=4)
        listing = await collector.collect()
        collector.close()
    assert [c.name for c in listing.containers] == ["blog-db-1"]
    assert f"/containers/{ids['coolify-sentinel']}/json" in engine.requests
    assert set(listing.stats) == {ids["blog-db-1"]}


@pytest.mark.posix_only  # the stand-in engine listens on a Unix socket
async def test_unchanged_containers_are_not_inspected_again(tmp_path: Path) -> None:
    body, ids = listing_of(["blog-db-1"])
    engine = FakeEngine(
        {
            "/containers/json": response(body),
            f"/containers/{ids['blog-db-1']}/json": response(fixture("inspect_blog-db-1.json")),
            f"/containers/{ids['blog-db-1']}/stats": response(fixture("stats_web-abc.json")),
        }
    )
    sock = tmp_path / "docker.sock"
    async with await engine.serve(sock):
        collector = DockerCollector(opener(sock), inspect_every=3)
        for _ in range(4):
            await collector.collect()
        collector.close()
    inspects = [p for p in engine.requests if p.endswith("/json") and "/containers/json" not in p]
    assert len(inspects) == 2, "first poll, then the forced refresh on the third"


@pytest.mark.posix_only  # the stand-in engine listens on a Unix socket
async def test_a_broken_engine_is_reported_as_unavailable(tmp_path: Path) -> None:
    engine = FakeEngine({"/containers/json": response(b"{not json", "200 OK")})
    sock = tmp_path / "docker.sock"
    async with await engine.serve(sock):
        collector = DockerCollector(opener(sock))
        with pytest.raises(DockerAccessError) as caught:
            await collector.collect()
        collector.close()
    assert caught.value.access is DockerAccess.UNAVAILABLE
    assert caught.value.message.startswith("the Docker API failed")

"""One listing of a host's containers: list, inspect each, one-shot stats of running ones,
spread over a few keep-alive streams."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncssh

from vpshealth.collectors.docker_access import DockerAccess, DockerAccessError
from vpshealth.collectors.docker_http import DockerHttp, DockerHttpError, Opener, stream_lines
from vpshealth.collectors.docker_logs import log_request, parse_logs
from vpshealth.collectors.docker_parsers import (
    parse_container_list,
    parse_event,
    parse_inspect,
    parse_stats,
)
from vpshealth.collectors.errors import CollectionError
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerStats,
    DockerEvent,
)
from vpshealth.domain.errors import ParseError

CONTAINER_ID = re.compile(r"[0-9a-f]{12,64}")
_STATS_STATES = frozenset({ContainerState.RUNNING, ContainerState.PAUSED})
FOLLOWED_EVENTS = (
    "create", "start", "restart", "die", "oom", "kill", "stop", "destroy", "pause", "unpause",
    "health_status",
)  # fmt: skip

_STREAM_ERRORS = (
    DockerHttpError,
    ParseError,
    asyncssh.Error,
    OSError,
    EOFError,
    asyncio.IncompleteReadError,
    TimeoutError,
    CollectionError,
)


@dataclass(frozen=True, slots=True)
class DockerListing:
    """``metrics``: each container's CPU and memory worked out already (by the Go engine,
    over its own polls); None: the monitor works them out from ``stats``."""

    containers: tuple[Container, ...]
    stats: dict[str, ContainerStats]
    metrics: dict[str, ContainerMetrics] | None = None


def unavailable(exc: BaseException) -> DockerAccessError:
    if isinstance(exc, DockerAccessError):
        return exc
    if isinstance(exc, (CollectionError, DockerHttpError)):
        reason = exc.message
    else:
        reason = str(exc) or type(exc).__name__
    return DockerAccessError(DockerAccess.UNAVAILABLE, f"the Docker API failed: {reason}")


class DockerCollector:
    """``streams`` keep-alive streams list and inspect; up to ``stats_streams`` more ask for
    stats all at once, because the engine answers a stats request only at its next one-second
    collection tick (one-shot or not, on Docker 20.10): asked one after another, 50 containers
    took 17 s; asked together they take about one tick. Inspect results are reused while a
    container's listing line (state and status text) is unchanged, refreshed every
    ``inspect_every`` polls regardless."""

    def __init__(
        self,
        opener: Opener,
        *,
        streams: int = 2,
        stats_streams: int = 32,
        timeout: float = 20.0,
        inspect_every: int = 10,
    ) -> None:
        self._opener = opener
        self._streams = max(streams, 1)
        self._pool: list[DockerHttp] = []  # opened on the first listing: most hosts have none
        self._stats_streams = max(stats_streams, 1)
        self._stats_pool: list[DockerHttp] = []  # grown to the number of running containers
        self._timeout = timeout
        self._inspect_every = inspect_every
        self._inspected: dict[str, tuple[tuple[str, str], Container]] = {}
        self._polls = 0
        self._logs: DockerHttp | None = None  # its own stream: a listing never waits for it

    async def collect(self) -> DockerListing:
        """Raises DockerAccessError (absent, denied, unavailable)."""
        try:
            async with asyncio.timeout(self._timeout):
                return await self._collect()
        except _STREAM_ERRORS as exc:
            self.close()
            raise unavailable(exc) from None

    async def _collect(self) -> DockerListing:
        if not self._pool:
            self._pool = [DockerHttp(self._opener) for _ in range(self._streams)]
        summaries = parse_container_list(await self._pool[0].get_ok("/containers/json?all=1"))
        self._polls += 1
        refresh_all = self._polls % self._inspect_every == 0
        listed = {s.id: (s.state, s.status) for s in summaries if CONTAINER_ID.fullmatch(s.id)}
        fresh: dict[str, Container] = {}
        stale: list[str] = []
        for container_id, line in listed.items():
            cached = self._inspected.get(container_id)
            if cached is not None and cached[0] == line and not refresh_all:
                fresh[container_id] = cached[1]
            else:
                stale.append(container_id)

        async def inspect_share(http: DockerHttp, share: list[str]) -> None:
            for container_id in share:
                inspected = await self._inspect(http, container_id)
                if inspected is not None:
                    fresh[container_id] = inspected
                    self._inspected[container_id] = (listed[container_id], inspected)

        n = len(self._pool)
        await asyncio.gather(*(inspect_share(h, stale[i::n]) for i, h in enumerate(self._pool)))
        self._inspected = {k: v for k, v in self._inspected.items() if k in listed}
        containers = sorted(fresh.values(), key=lambda c: c.name)
        stats = await self._all_stats([c.id for c in containers if c.state in _STATS_STATES])
        return DockerListing(tuple(containers), stats)

    async def _all_stats(self, ids: list[str]) -> dict[str, ContainerStats]:
        stats: dict[str, ContainerStats] = {}

        async def stats_share(http: DockerHttp, share: list[str]) -> None:
            for container_id in share:
                sample = await self._stats(http, container_id)
                if sample is not None:
                    stats[container_id] = sample

        wanted = max(min(len(ids), self._stats_streams), 1)
        while len(self._stats_pool) < wanted:
            self._stats_pool.append(DockerHttp(self._opener))
        pool = self._stats_pool[:wanted]
        n = len(pool)
        await asyncio.gather(*(stats_share(h, ids[i::n]) for i, h in enumerate(pool)))
        return stats

    @staticmethod
    async def _inspect(http: DockerHttp, container_id: str) -> Container | None:
        response = await http.get(f"/containers/{container_id}/json")
        if response.status == 404:  # removed between the listing and now
            return None
        if response.status != 200:
            raise DockerHttpError(response.status, f"inspect answered {response.status}")
        return parse_inspect(response.body)

    @staticmethod
    async def _stats(http: DockerHttp, container_id: str) -> ContainerStats | None:
        response = await http.get(f"/containers/{container_id}/stats?stream=false&one-shot=true")
        if response.status in (404, 409):
            return None
        if response.status != 200:
            raise DockerHttpError(response.status, f"stats answered {response.status}")
        try:
            return parse_stats(response.body)
        except ParseError:
            return None

    async def events(self, since: int) -> AsyncIterator[DockerEvent]:
        """The engine's container events from ``since`` on, until the stream drops."""
        events = ",".join(f'"{e}"' for e in FOLLOWED_EVENTS)
        filters = f'{{"type":["container"],"event":[{events}]}}'
        path = f"/events?since={since}&filters={_quote(filters)}"
        async for line in stream_lines(self._opener, path):
            event = parse_event(line)
            if event is not None:
                yield event

    async def last_run_logs(self, container_id: str, at: int) -> str:
        """The last lines of the container's last run (see ``docker_logs.log_request``) for an
        incident at ``at``; "" when it has none. Raises what the stream raises; no timeout of
        its own (the caller bounds it)."""
        if not CONTAINER_ID.fullmatch(container_id):
            return ""
        if self._logs is None:
            self._logs = DockerHttp(self._opener)
        inspected = await self._logs.get(f"/containers/{container_id}/json")
        if inspected.status == 404:
            return ""
        request = log_request(container_id, inspected.body if inspected.status == 200 else None, at)
        return parse_logs(await self._logs.get_ok(request.path), request.tty)

    def close(self) -> None:
        for http in (*self._pool, *self._stats_pool):
            http.close()
        if self._logs is not None:
            self._logs.close()


def _quote(text: str) -> str:
    return "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in text)

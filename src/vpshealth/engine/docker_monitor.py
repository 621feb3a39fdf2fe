"""A host's Docker, followed over time: a listing every poll, the events stream in between,
and the incidents both produce."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from vpshealth.clock import Clock
from vpshealth.collectors.docker_access import DockerAccess, DockerAccessError
from vpshealth.collectors.docker_collector import DockerListing
from vpshealth.domain.container_incidents import IncidentTracker
from vpshealth.domain.containers import (
    LOGGED_KINDS,
    Container,
    ContainerIncident,
    ContainerMetrics,
    ContainerStats,
    ContainerView,
    DockerEvent,
    DockerReport,
    IncidentKind,
    container_cpu_percent,
    container_memory_bytes,
)

log = logging.getLogger(__name__)

IncidentSink = Callable[[list[ContainerIncident]], None]

EVENTS_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
ABSENT_RECHECK_POLLS = 20
"""A host without Docker is asked again only every this many polls (Docker gets installed
rarely; asking costs a channel open and a command)."""
LOGS_TIMEOUT_SECONDS = 3.0
"""The longest a poll or the events stream waits for a failed container's last log lines."""
RUN_LOGS_SECONDS = 120
"""Lines read at a repeated crash serve a restart loop that opens within this time (Docker's
restart back-off is at most a minute)."""

_ACCESS_KIND = {
    DockerAccess.DENIED: IncidentKind.DOCKER_PERMISSION_DENIED,
    DockerAccess.UNAVAILABLE: IncidentKind.DOCKER_UNAVAILABLE,
    DockerAccess.ABSENT: IncidentKind.DOCKER_UNAVAILABLE,
}


class ListingSource(Protocol):
    """Where a monitor's listings, events and log lines come from: the host's Docker API
    (``DockerCollector``) or the Go engine's messages (``go_docker.GoDockerCollector``)."""

    async def collect(self) -> DockerListing: ...

    def events(self, since: int) -> AsyncIterator[DockerEvent]: ...

    async def last_run_logs(self, container_id: str, at: int) -> str: ...

    def close(self) -> None: ...


NO_METRICS = ContainerMetrics(cpu_percent=None, memory_bytes=None, memory_limit_bytes=None)


class DockerMonitor:
    def __init__(
        self,
        host_name: str,
        collector: ListingSource,
        clock: Clock,
        *,
        on_incidents: IncidentSink | None = None,
        follow_events: bool = True,
        tracker: IncidentTracker | None = None,
        logs_wanted: Callable[[], bool] | None = None,
        absent_recheck_polls: int = ABSENT_RECHECK_POLLS,
    ) -> None:
        """``logs_wanted``: asked at each opening of a crash, OOM kill or restart loop whether
        to read the container's last log lines into it (the rule ``containers.logs``); None:
        never. ``absent_recheck_polls``: polls skipped after finding no Docker (0: the
        collector skips them itself, as the Go engine does)."""
        self._absent_recheck_polls = absent_recheck_polls
        self._host_name = host_name
        self._logs_wanted = logs_wanted
        self._run_logs: dict[str, tuple[int, str]] = {}
        """Container id -> (when, lines) of the run that just ended, read at its ``die`` while
        a crash of it is open: a restart loop opens at the next ``start``, when that run's lines
        can no longer be told from the runs before it (see ``docker_logs.log_request``)."""
        self._collector = collector
        self._clock = clock
        self._on_incidents = on_incidents
        self._follow = follow_events
        self._tracker = tracker or IncidentTracker()
        self._previous_stats: dict[str, ContainerStats] = {}
        self._latest: dict[str, Container] = {}
        self._had_docker = False
        self._events_task: asyncio.Task[None] | None = None
        self._last_event_time: int | None = None
        self._skip_polls = 0

    def restore(
        self,
        baseline: Sequence[Container],
        open_incidents: Sequence[ContainerIncident],
        seen_at: int,
    ) -> list[ContainerIncident]:
        """Continue from what the database remembers: the last listing and open incidents."""
        self._tracker.restore(open_incidents)
        if not baseline and not open_incidents:
            return []
        self._had_docker = True
        self._latest = {c.id: c for c in baseline}
        return self._tracker.observe_listing(seen_at, baseline, remembered=True)

    async def poll(self) -> DockerReport:
        if self._skip_polls > 0:
            self._skip_polls -= 1
            return DockerReport(None)
        now = int(self._clock.now())
        try:
            listing = await self._collector.collect()
        except DockerAccessError as exc:
            return self._unreachable(now, exc)
        changes = self._tracker.docker_reachable(now) if self._had_docker else []
        self._had_docker = True
        changes += self._tracker.observe_listing(now, listing.containers)
        changes = await self._with_logs(changes)
        self._latest = {c.id: c for c in listing.containers}
        views = self._views(listing)
        self._start_events(now)
        return DockerReport(views, tuple(changes), tuple(self._tracker.open_incidents()))

    def _unreachable(self, now: int, exc: DockerAccessError) -> DockerReport:
        self._stop_events()
        self._previous_stats = {}
        if exc.access is DockerAccess.ABSENT and not self._had_docker:
            self._skip_polls = self._absent_recheck_polls
            return DockerReport(None)
        kind = _ACCESS_KIND[exc.access]
        changes = self._tracker.docker_unreachable(now, kind) if self._had_docker else []
        return DockerReport(
            None,
            tuple(changes),
            tuple(self._tracker.open_incidents()),
            problem=kind,
            message=f"{self._host_name}: {exc.message}",
        )

    def _views(self, listing: DockerListing) -> tuple[ContainerView, ...]:
        if listing.metrics is not None:
            given = listing.metrics
            return tuple(ContainerView(c, given.get(c.id, NO_METRICS)) for c in listing.containers)
        views = []
        for container in listing.containers:
            sample = listing.stats.get(container.id)
            before = self._previous_stats.get(container.id)
            cpu = container_cpu_percent(before, sample) if before and sample else None
            metrics = ContainerMetrics(
                cpu_percent=cpu,
                memory_bytes=container_memory_bytes(sample) if sample else None,
                memory_limit_bytes=sample.memory_limit if sample else None,
            )
            views.append(ContainerView(container, metrics))
        self._previous_stats = dict(listing.stats)
        return tuple(views)

    def _start_events(self, now: int) -> None:
        if not self._follow or (self._events_task is not None and not self._events_task.done()):
            return
        since = self._last_event_time if self._last_event_time is not None else now
        self._events_task = asyncio.create_task(
            self._follow_events(since), name=f"docker events {self._host_name}"
        )

    async def _follow_events(self, since: int) -> None:
        attempt = 0
        while True:
            try:
                async for event in self._collector.events(since):
                    attempt = 0
                    since = max(since, event.time)
                    self._last_event_time = since
                    await self._handle(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream dropped: reconnect, replaying from `since`
                log.debug("%s: Docker events stream ended: %s", self._host_name, exc)
            delay = EVENTS_RETRY_SECONDS[min(attempt, len(EVENTS_RETRY_SECONDS) - 1)]
            attempt += 1
            await asyncio.sleep(delay)

    async def _handle(self, event: DockerEvent) -> None:
        changes = self._tracker.observe_event(event, self._latest.get(event.container_id))
        if changes and self._on_incidents is not None:
            self._on_incidents(await self._with_logs(changes))
        if event.action == "die":
            await self._keep_run_logs(event)
        elif event.action == "destroy":
            self._run_logs.pop(event.container_id, None)

    async def _keep_run_logs(self, event: DockerEvent) -> None:
        """At a repeated crash (one is open for the container, no restart loop yet), read the
        run's lines while the container is down, for the restart loop that may open next."""
        kinds = {i.kind for i in self._tracker.open_incidents() if i.container_name == event.name}
        if IncidentKind.CRASHED not in kinds or IncidentKind.RESTART_LOOP in kinds:
            return
        if self._logs_wanted is None or not self._logs_wanted():
            return
        try:
            async with asyncio.timeout(LOGS_TIMEOUT_SECONDS):
                lines = await self._collector.last_run_logs(event.container_id, event.time)
        except Exception as exc:
            log.debug("%s: could not read the logs of %s: %s", self._host_name, event.name, exc)
            return
        if lines:
            self._run_logs[event.container_id] = (event.time, lines)

    async def _with_logs(self, changes: list[ContainerIncident]) -> list[ContainerIncident]:
        """The openings of crashes, OOM kills and restart loops with the container's last log
        lines, read within ``LOGS_TIMEOUT_SECONDS`` for all of them together. Logs that
        cannot be read leave the incident without lines (and a debug log): never an error."""
        wanted = [
            i
            for i, c in enumerate(changes)
            if c.opened and c.kind in LOGGED_KINDS and c.container_id and c.log_lines is None
        ]
        if not wanted or self._logs_wanted is None or not self._logs_wanted():
            return changes
        found: dict[int, str] = {}

        async def read(index: int) -> None:
            change = changes[index]
            kept = self._run_logs.pop(change.container_id, None)
            if (
                kept is not None
                and change.kind is IncidentKind.RESTART_LOOP
                and 0 <= change.at - kept[0] <= RUN_LOGS_SECONDS
            ):
                found[index] = kept[1]
                return
            try:
                found[index] = await self._collector.last_run_logs(change.container_id, change.at)
            except Exception as exc:
                log.debug("%s: could not read the logs of %s: %s",
                          self._host_name, change.container_name, exc)  # fmt: skip

        try:
            async with asyncio.timeout(LOGS_TIMEOUT_SECONDS):
                await asyncio.gather(*(read(i) for i in wanted))
        except TimeoutError:
            log.debug("%s: container logs took longer than %.0f s; sent without them",
                      self._host_name, LOGS_TIMEOUT_SECONDS)  # fmt: skip
        return [
            dataclasses.replace(c, log_lines=found[i]) if found.get(i) else c
            for i, c in enumerate(changes)
        ]

    def stop_events(self) -> None:
        """Stop following events until the next successful listing (the host is down)."""
        self._stop_events()

    def _stop_events(self) -> None:
        task, self._events_task = self._events_task, None
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        task, self._events_task = self._events_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._collector.close()

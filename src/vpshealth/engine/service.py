"""The headless service: runs the scheduler until stopped, following host changes in the
database, and records every result. ``app.build_service`` builds it and its parts."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from vpshealth.clock import Clock
from vpshealth.domain.alert_rules import RuleBook
from vpshealth.domain.containers import ContainerIncident
from vpshealth.domain.health import CheckResult
from vpshealth.domain.hosts import Host
from vpshealth.engine import heap
from vpshealth.engine.alert_manager import AlertManager
from vpshealth.engine.docker_monitor import IncidentSink
from vpshealth.engine.poller import Poller, RuleSource
from vpshealth.engine.recorder import Recorder
from vpshealth.engine.scheduler import ResultSink, Scheduler
from vpshealth.engine.status import EngineStatus
from vpshealth.engine.stop_signals import on_stop_signals
from vpshealth.store.host_repository import HostRecord

log = logging.getLogger(__name__)

HOST_REFRESH_SECONDS = 5.0


class PollerFactory(Protocol):
    """``on_incidents`` receives container incidents found between polls, from the Docker
    events stream; without it (one-off checks) the stream is not followed."""

    def __call__(
        self, host_id: int, host: Host, rules: RuleSource, on_incidents: IncidentSink | None = None
    ) -> Poller: ...


class CheckEngine(Protocol):
    """What runs the checks of the enabled hosts: the Python ``Scheduler``, or the Go engine
    (``go_engine.GoEngine``)."""

    @property
    def host_ids(self) -> set[int]: ...

    async def set_hosts(self, hosts: dict[int, Host], *, start_now: bool = False) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class HostHooks:
    """What a host's checks are judged by and report to, besides the results."""

    rules: RuleSource
    on_incidents: IncidentSink


class EngineFactory(Protocol):
    """Builds the service's check engine from the service's poller factory (which builds a
    Python poller for a host), its hooks of a host, and where results go."""

    def __call__(
        self,
        make_poller: Callable[[int, Host], Poller],
        hooks: Callable[[int, Host], HostHooks],
        sink: ResultSink,
    ) -> CheckEngine: ...


class Worker(Protocol):
    """A task that runs beside the checks until cancelled (a delivery channel, the upkeep)."""

    async def run(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Pacing:
    max_concurrency: int
    poll_timeout: float


Explainer = Callable[[Sequence[tuple[int, CheckResult]]], Awaitable[list[CheckResult]]]


async def check_once(
    records: Sequence[HostRecord],
    *,
    make_poller: PollerFactory,
    rules: RuleBook,
    recorder: Recorder,
    clock: Clock,
    pacing: Pacing,
    explain: Explainer | None = None,
) -> list[CheckResult]:
    """Poll the given hosts once, concurrently, store the results as one batch, and close the
    connections. ``explain`` may add to the failed results' messages before they are stored
    (the Hetzner Cloud second opinion)."""

    def poller_of(host_id: int, host: Host) -> Poller:
        return make_poller(host_id, host, functools.partial(rules.rules, host_id))

    scheduler = Scheduler(
        poller_of,
        recorder.add,
        clock,
        max_concurrency=pacing.max_concurrency,
        poll_timeout=pacing.poll_timeout,
    )
    pollers = [(r.id, poller_of(r.id, r.host)) for r in records]
    try:
        results = await asyncio.gather(
            *(scheduler.poll_once(host_id, poller) for host_id, poller in pollers)
        )
        if explain is not None:
            results = await explain(list(zip((i for i, _ in pollers), results, strict=True)))
        for (host_id, _), result in zip(pollers, results, strict=True):
            recorder.add(host_id, result)
        await recorder.flush()
    finally:
        await asyncio.gather(*(poller.close() for _, poller in pollers))
        recorder.close()
    return list(results)


class Service:
    """Polls the enabled hosts (``hosts``, re-read every few seconds), records each result
    with ``recorder`` and hands it to ``alerts``; ``workers`` (alert delivery, the history's
    upkeep) run beside it. Each host's state and its alerts use the same ``rules``, which the
    alert manager reloads as they are edited."""

    def __init__(
        self,
        *,
        hosts: Callable[[], dict[int, Host]],
        make_poller: PollerFactory,
        rules: RuleBook,
        recorder: Recorder,
        alerts: AlertManager,
        workers: Sequence[tuple[str, Worker]],
        clock: Clock,
        pacing: Pacing,
        status: EngineStatus | None = None,
        annotate: Callable[[int, CheckResult], CheckResult] | None = None,
        catch_stop_signals: bool = True,
        engine: EngineFactory | None = None,
    ) -> None:
        """``annotate`` may add to each result before it is recorded (the Hetzner Cloud
        reason a server is down); it must not block. ``catch_stop_signals``: Ctrl-C and
        SIGTERM stop it (not for a service inside another process's work: a takeover).
        ``engine``: what runs the checks; default: the Python scheduler."""
        self._hosts = hosts
        self._annotate = annotate
        self._clock = clock
        self.status = status or EngineStatus(poll_timeout=pacing.poll_timeout)
        self._make_poller_for = make_poller
        self._rules = rules
        self._recorder = recorder
        self._alerts = alerts
        self._workers = tuple(workers)
        self._scheduler: CheckEngine
        if engine is None:
            self._scheduler = Scheduler(
                self._make_poller,
                self._on_result,
                clock,
                max_concurrency=pacing.max_concurrency,
                poll_timeout=pacing.poll_timeout,
            )
        else:
            self._scheduler = engine(self._make_poller, self._hooks, self._on_result)
        self._stop = asyncio.Event()
        self._paused = False
        self._catch_stop_signals = catch_stop_signals

    def _hooks(self, host_id: int, host: Host) -> HostHooks:
        self._alerts.track_host(host_id, host)

        def on_incidents(incidents: list[ContainerIncident]) -> None:
            self._recorder.add_incidents(host_id, host.name, incidents)
            self._alerts.observe_incidents(host_id, incidents)

        return HostHooks(functools.partial(self._rules.rules, host_id), on_incidents)

    def _make_poller(self, host_id: int, host: Host) -> Poller:
        hooks = self._hooks(host_id, host)
        return self._make_poller_for(host_id, host, hooks.rules, hooks.on_incidents)

    def _on_result(self, host_id: int, result: CheckResult) -> None:
        if self._annotate is not None:
            result = self._annotate(host_id, result)
        self.status.last_result_at = self._clock.now()
        self.status.results += 1
        self.status.poll_durations.record(result)
        self._recorder.add(host_id, result)
        self._alerts.observe(host_id, result)

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def paused(self) -> bool:
        return self._paused

    async def set_paused(self, paused: bool) -> None:
        """Pausing stops every host loop (closing the connections) until resumed."""
        self._paused = paused
        if paused:
            await self._scheduler.stop()
        else:
            await self._refresh_hosts(start_now=True)

    async def check_all_now(self) -> None:
        """Poll every enabled host right away (restarting their loops), unless paused."""
        if self._paused:
            return
        enabled = await asyncio.to_thread(self._hosts)
        await self._scheduler.stop()
        await self._scheduler.set_hosts(enabled, start_now=True)

    async def run(self) -> None:
        restore_signals = (
            on_stop_signals(asyncio.get_running_loop(), self.request_stop)
            if self._catch_stop_signals
            else lambda: None
        )
        await self._alerts.start()
        tasks = [
            asyncio.create_task(self._recorder.run(), name="recorder"),
            asyncio.create_task(self._alerts.run(), name="alerts"),
            asyncio.create_task(heap.keep_pauses_short(), name="garbage collector"),
        ]
        tasks += [asyncio.create_task(w.run(), name=name) for name, w in self._workers]
        log.info("Service started")
        self.status.running = True
        self.status.started_at = self._clock.now()
        try:
            while not self._stop.is_set():
                await self._refresh_hosts()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=HOST_REFRESH_SECONDS)
        finally:
            self.status.running = False
            log.info("Service stopping")
            await self._scheduler.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._recorder.flush()
            try:
                await self._alerts.step()
            except Exception:
                log.exception("Could not record the last alerts")
            self._recorder.close()
            restore_signals()
            log.info("Service stopped")

    async def _refresh_hosts(self, *, start_now: bool = False) -> None:
        if self._paused:
            return
        try:
            enabled = await asyncio.to_thread(self._hosts)
        except Exception:
            log.exception("Could not read the host list; keeping the current one")
            return
        if self._paused or self._stop.is_set():
            return
        for removed in self._scheduler.host_ids - set(enabled):
            self._recorder.forget_host(removed)
            self._alerts.forget_host(removed)
        await self._scheduler.set_hosts(enabled, start_now=start_now)
        self.status.hosts = len(enabled)
        self.status.longest_interval = max(
            (h.interval_seconds for h in enabled.values()), default=0
        )

"""The headless service: runs the scheduler until stopped, following host changes in the
database, and records every result."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Sequence

from vpshealth.alerts.channels import build_delivery_workers
from vpshealth.app import Core
from vpshealth.domain.containers import ContainerIncident
from vpshealth.domain.health import CheckResult
from vpshealth.domain.hosts import Host
from vpshealth.domain.notifications import Notifier
from vpshealth.engine import heap
from vpshealth.engine.alert_manager import AlertManager
from vpshealth.engine.poller import Poller
from vpshealth.engine.recorder import Recorder
from vpshealth.engine.scheduler import Scheduler
from vpshealth.store.compaction import Compactor, hour_of
from vpshealth.store.host_repository import HostRecord
from vpshealth.store.maintenance import Retention, prune_history
from vpshealth.store.rollups import Rollups

log = logging.getLogger(__name__)

HOST_REFRESH_SECONDS = 5.0
COMPACTION_SECONDS = 300.0
# Between two slices of the upkeep (about 0.2 s each) the writer thread rests, so that a large
# fleet's hourly fold and 6-hourly roll-up (tens of seconds at 1,000 hosts) take a third of a
# core for a few minutes instead of the GIL for a minute: the event loop keeps its pace.
UPKEEP_PAUSE_SECONDS = 0.4


async def check_once(core: Core, records: list[HostRecord]) -> list[CheckResult]:
    """Poll the given hosts once, concurrently, store the results as one batch, and close the
    connections."""
    recorder = Recorder(core.results_writer())
    scheduler = Scheduler(
        core.make_poller,
        recorder.add,
        core.clock,
        max_concurrency=core.settings.max_concurrent_polls,
        poll_timeout=core.poll_timeout,
    )
    pollers = [(r.id, core.make_poller(r.id, r.host)) for r in records]
    try:
        results = await asyncio.gather(
            *(scheduler.poll_once(host_id, poller) for host_id, poller in pollers)
        )
        for (host_id, _), result in zip(pollers, results, strict=True):
            recorder.add(host_id, result)
        await recorder.flush()
    finally:
        await asyncio.gather(*(poller.close() for _, poller in pollers))
        recorder.close()
    return list(results)


class Service:
    """``notifiers`` show notifications right away (the GUI's tray), besides the log line the
    service writes for each."""

    def __init__(self, core: Core, notifiers: Sequence[Notifier] = ()) -> None:
        self._core = core
        self._recorder = Recorder(core.results_writer(record_incidents=False))
        self._alerts = AlertManager(
            core.engine, core.clock, self._recorder.run_in_writer, notifiers, core.rule_base
        )
        self._scheduler = Scheduler(
            self._make_poller,
            self._on_result,
            core.clock,
            max_concurrency=core.settings.max_concurrent_polls,
            poll_timeout=core.poll_timeout,
        )
        self._stop = asyncio.Event()
        self._paused = False

    def _make_poller(self, host_id: int, host: Host) -> Poller:
        self._alerts.track_host(host_id, host)

        def on_incidents(incidents: list[ContainerIncident]) -> None:
            self._recorder.add_incidents(host_id, host.name, incidents)
            self._alerts.observe_incidents(host_id, incidents)

        return self._core.make_poller(host_id, host, on_incidents)

    def _on_result(self, host_id: int, result: CheckResult) -> None:
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
        enabled = await asyncio.to_thread(self._core.hosts.enabled_hosts)
        await self._scheduler.stop()
        await self._scheduler.set_hosts(enabled, start_now=True)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        await self._alerts.start()
        flusher = asyncio.create_task(self._recorder.run(), name="recorder")
        compactor = asyncio.create_task(self._compact_periodically(), name="compaction")
        alerts = asyncio.create_task(self._alerts.run(), name="alerts")
        core = self._core
        workers = build_delivery_workers(core.engine, core.settings, core.secrets, core.clock)
        deliveries = [asyncio.create_task(w.run(), name=w.name) for w in workers]
        pauses = asyncio.create_task(heap.keep_pauses_short(), name="garbage collector")
        log.info("Service started")
        try:
            while not self._stop.is_set():
                await self._refresh_hosts()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=HOST_REFRESH_SECONDS)
        finally:
            log.info("Service stopping")
            await self._scheduler.stop()
            background = (flusher, compactor, alerts, pauses, *deliveries)
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self._recorder.flush()
            try:
                await self._alerts.step()
            except Exception:
                log.exception("Could not record the last alerts")
            self._recorder.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            log.info("Service stopped")

    async def _compact_periodically(self) -> None:
        """Fold the past hours into chunks, roll them up into 1-minute and 1-hour buckets and
        drop what is past retention (once an hour), on the writer thread between batches.
        Folding and rolling up go in slices of about 0.2 s with a pause after each, so result
        writes queued meanwhile are not held up and the event loop keeps the GIL often."""
        engine = self._core.engine
        compactor = Compactor(engine)
        rollup = Rollups(engine)
        retention = Retention.from_settings(self._core.settings)
        slice_seconds = 0.2
        run = self._recorder.run_in_writer
        pruned_hour: int | None = None
        while True:
            now = int(self._core.clock.now())
            try:
                await run(functools.partial(compactor.compact, now, slice_seconds))
                while not compactor.done:
                    await asyncio.sleep(UPKEEP_PAUSE_SECONDS)
                    await run(functools.partial(compactor.compact, now, slice_seconds))
                while not (await run(functools.partial(rollup.run, now, slice_seconds))).done:
                    await asyncio.sleep(UPKEEP_PAUSE_SECONDS)
                if hour_of(now) != pruned_hour:  # history is kept and dropped by the hour
                    await run(functools.partial(prune_history, engine, now, retention))
                    pruned_hour = hour_of(now)
            except Exception:
                log.exception("Could not compact, roll up or prune the history; will retry")
            await asyncio.sleep(COMPACTION_SECONDS)

    async def _refresh_hosts(self, *, start_now: bool = False) -> None:
        if self._paused:
            return
        try:
            enabled = await asyncio.to_thread(self._core.hosts.enabled_hosts)
        except Exception:
            log.exception("Could not read the host list; keeping the current one")
            return
        if self._paused or self._stop.is_set():
            return
        for removed in self._scheduler.host_ids - set(enabled):
            self._recorder.forget_host(removed)
            self._alerts.forget_host(removed)
        await self._scheduler.set_hosts(enabled, start_now=start_now)

"""Buffers poll results and writes them in batches on one dedicated writer thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from vpshealth.domain.containers import ContainerIncident
from vpshealth.domain.health import CheckResult
from vpshealth.engine.live_hub import LiveHub
from vpshealth.store.results_writer import ResultsWriter, StateChange

log = logging.getLogger(__name__)

T = TypeVar("T")


class Recorder:
    """``live``: gets the live stream's messages of each batch once it is committed."""

    def __init__(self, writer: ResultsWriter, live: LiveHub | None = None) -> None:
        self._writer = writer
        self._live = live
        self._pending: list[tuple[int, CheckResult]] = []
        self._incidents: list[tuple[int, ContainerIncident]] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpshealth-writer")
        self._lock = asyncio.Lock()

    def add(self, host_id: int, result: CheckResult) -> None:
        self._pending.append((host_id, result))
        if result.docker is not None:
            _log_incidents(result.host_name, result.docker.changes)

    def add_incidents(
        self, host_id: int, host_name: str, incidents: list[ContainerIncident]
    ) -> None:
        """Incidents seen between polls (Docker events); written with the next flush."""
        self._incidents.extend((host_id, incident) for incident in incidents)
        _log_incidents(host_name, incidents)

    async def flush(self) -> list[StateChange]:
        async with self._lock:
            batch, self._pending = self._pending, []
            incidents, self._incidents = self._incidents, []
            if not batch and not incidents:
                return []
            loop = asyncio.get_running_loop()
            changes = await loop.run_in_executor(self._executor, self._write, batch, incidents)
        for change in changes:
            log.info(
                "%s is now %s (was %s): %s",
                change.host_name,
                change.new_state,
                change.old_state or "new",
                change.message,
            )
        return changes

    def _write(
        self,
        batch: list[tuple[int, CheckResult]],
        incidents: list[tuple[int, ContainerIncident]],
    ) -> list[StateChange]:
        written = self._writer.write_batch(batch, incidents)
        if self._live is not None:
            self._live.publish(written.live)
        return written.changes

    async def run(self, every: float = 1.0) -> None:
        """Flush periodically until cancelled; a failed write is logged and retried."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.flush()
            except Exception:
                log.exception("Could not write results to the database; will retry")

    async def run_in_writer(self, fn: Callable[[], T]) -> T:
        """Run other database maintenance on the writer thread, between batches."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)

    def forget_host(self, host_id: int) -> None:
        self._executor.submit(self._writer.forget_host, host_id)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def _log_incidents(host_name: str, incidents: Sequence[ContainerIncident]) -> None:
    for incident in incidents:
        if incident.opened:
            log.warning("%s: %s", host_name, incident.message)
        else:
            log.info("%s: resolved: %s", host_name, incident.message)

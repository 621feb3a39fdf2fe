"""The history's upkeep while the service runs: fold the past hours into chunks, roll them up
into 1-minute and 1-hour buckets, and drop what is past retention (once an hour; the live
stream's log on every round)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from sqlalchemy import Engine

from vpshealth.clock import Clock
from vpshealth.domain.live import LiveKind
from vpshealth.store.compaction import Compactor, hour_of
from vpshealth.store.live_log import LiveLog
from vpshealth.store.maintenance import Retention, prune_history
from vpshealth.store.rollups import Rollups

log = logging.getLogger(__name__)

T = TypeVar("T")


class WriterRunner(Protocol):
    def __call__(self, fn: Callable[[], T], /) -> Awaitable[T]: ...


COMPACTION_SECONDS = 300.0
SLICE_SECONDS = 0.2
# Between two slices of the upkeep the writer thread rests, so that a large fleet's hourly
# fold and 6-hourly roll-up (tens of seconds at 1,000 hosts) take a third of a core for a few
# minutes instead of the GIL for a minute: the event loop keeps its pace.
UPKEEP_PAUSE_SECONDS = 0.4


class HistoryUpkeep:
    """Runs on the results writer's thread (``run_in_writer``), between its batches, in slices
    of about 0.2 s, so result writes queued meanwhile are not held up."""

    def __init__(
        self,
        engine: Engine,
        retention: Retention,
        clock: Clock,
        run_in_writer: WriterRunner,
    ) -> None:
        self._engine = engine
        self._retention = retention
        self._clock = clock
        self._run = run_in_writer
        self._compactor = Compactor(engine)
        self._rollups = Rollups(engine)
        self._live_log = LiveLog(engine)
        self._pruned_hour: int | None = None

    async def run(self) -> None:
        """Every ``COMPACTION_SECONDS`` until cancelled; a failed round is logged and retried."""
        while True:
            try:
                await self.round()
            except Exception:
                log.exception("Could not compact, roll up or prune the history; will retry")
            await asyncio.sleep(COMPACTION_SECONDS)

    async def round(self) -> None:
        now = int(self._clock.now())
        run, compactor = self._run, self._compactor
        await run(functools.partial(compactor.compact, now, SLICE_SECONDS))
        while not compactor.done:
            await asyncio.sleep(UPKEEP_PAUSE_SECONDS)
            await run(functools.partial(compactor.compact, now, SLICE_SECONDS))
        while not (await run(functools.partial(self._rollups.run, now, SLICE_SECONDS))).done:
            await asyncio.sleep(UPKEEP_PAUSE_SECONDS)
        if hour_of(now) != self._pruned_hour:  # history is kept and dropped by the hour
            await run(functools.partial(prune_history, self._engine, now, self._retention))
            self._pruned_hour = hour_of(now)
        await self.prune_live_log(now)

    async def prune_live_log(self, now: int) -> None:
        others = set(LiveKind) - {LiveKind.CHECK}
        for kinds, keep in (
            ({LiveKind.CHECK}, self._retention.live_checks),
            (others, self._retention.hour),
        ):
            prune = functools.partial(self._live_log.prune, kinds, now - keep, now)
            while not (await self._run(prune)).done:
                await asyncio.sleep(UPKEEP_PAUSE_SECONDS)

"""The copy keeps history as long as this desktop's retention says, like the node: after a
catch-up, at most once an hour, the store's pruning runs over the copy."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine

from vpshealth.clock import Clock
from vpshealth.store.maintenance import Retention, prune_history
from vpshealth.sync.catch_up import CatchUpReport

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0


class CopyPruning:
    def __init__(
        self,
        copy: Engine,
        retention: Retention,
        clock: Clock,
        every: float = PRUNE_EVERY_SECONDS,
    ) -> None:
        self._copy = copy
        self._retention = retention
        self._clock = clock
        self._every = every
        self._last: float | None = None

    async def after_sync(self, _report: CatchUpReport) -> int:
        """Prune when the last pruning is older than ``every``; returns the rows deleted."""
        now = self._clock.now()
        if self._last is not None and now - self._last < self._every:
            return 0
        self._last = now
        deleted = await asyncio.to_thread(prune_history, self._copy, int(now), self._retention)
        if deleted:
            log.info("Sync: pruned %d rows past retention from the local copy", deleted)
        return deleted

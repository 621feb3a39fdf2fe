"""How late the event loop wakes up: a task sleeps a fixed time and measures the overshoot.
A loop busy with a long callback (a stall) wakes it late by about that long."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

EVERY_SECONDS = 0.5
WINDOW_SECONDS = 60.0


@dataclass
class LoopLagMonitor:
    """Runs as one of the service's workers. ``last_seconds`` and ``max_seconds`` may be read
    from a worker thread: the readings are replaced, never changed in place."""

    every: float = EVERY_SECONDS
    window: float = WINDOW_SECONDS
    _readings: tuple[tuple[float, float], ...] = ()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.every
            await asyncio.sleep(self.every)
            self.record(due, loop.time())

    def record(self, due: float, woke: float) -> None:
        """One wake-up ``woke`` (loop time) of a sleep that ended at ``due``."""
        kept = tuple(r for r in self._readings if r[0] > woke - self.window)
        self._readings = (*kept, (woke, max(0.0, woke - due)))

    @property
    def last_seconds(self) -> float | None:
        readings = self._readings
        return readings[-1][1] if readings else None

    @property
    def max_seconds(self) -> float | None:
        """The largest lag of the last minute (as of the last wake-up)."""
        readings = self._readings
        return max(lag for _, lag in readings) if readings else None

"""How long polls take, counted into fixed buckets: the engine's poll-duration histogram.
Only polls that collected something carry their duration; the others are just counted."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from vpshealth.domain.health import CheckResult

BUCKET_BOUNDS: tuple[float, ...] = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0
)  # fmt: skip
"""Upper bounds in seconds: a poll over a reused SSH connection takes ~10-50 ms, a first one
(connect, key exchange) ~100 ms, one that times out tens of seconds."""


@dataclass(frozen=True, slots=True)
class DurationHistogram:
    buckets: tuple[tuple[float, int], ...]
    """(upper bound, polls that took at most that long), the last bound ``inf``."""
    sum_seconds: float

    @property
    def count(self) -> int:
        return self.buckets[-1][1]


@dataclass
class PollDurations:
    """Observed on the event loop; ``histogram`` may be read from a worker thread."""

    _counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKET_BOUNDS) + 1))
    _sum: float = 0.0
    failed: int = 0

    def record(self, result: CheckResult) -> None:
        if result.metrics is None:
            self.failed += 1
        else:
            self.observe(result.duration_ms / 1000)

    def observe(self, seconds: float) -> None:
        self._counts[bisect.bisect_left(BUCKET_BOUNDS, seconds)] += 1
        self._sum += seconds

    def histogram(self) -> DurationHistogram:
        counts, total = list(self._counts), self._sum
        cumulative, buckets = 0, []
        for bound, count in zip((*BUCKET_BOUNDS, float("inf")), counts, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        return DurationHistogram(tuple(buckets), total)

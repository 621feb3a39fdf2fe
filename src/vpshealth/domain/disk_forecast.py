"""When will a filesystem be full? A least-squares line through recent usage, trusted only when
there are enough samples over enough time and they follow the line closely."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

SAMPLE_SPACING_SECONDS = 300
WINDOW_SECONDS = 6 * 3600
MIN_SAMPLES = 12
MIN_SPAN_SECONDS = 3600
MIN_FIT = 0.8
MIN_RISE_PERCENT_PER_HOUR = 0.01


def hours_until_full(samples: Sequence[tuple[int, float]]) -> float | None:
    """Hours until the fitted line reaches 100 % from the last sample, or None when the samples
    show no steady rise (too few, too short, flat, falling or scattered)."""
    if not samples or not enough_samples(len(samples), samples[-1][0] - samples[0][0]):
        return None
    t0 = samples[0][0]
    xs = [(t - t0) / 3600.0 for t, _ in samples]
    ys = [p for _, p in samples]
    if not all(math.isfinite(y) for y in ys):
        return None
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    # Products, not ``** 2``: a float power raises OverflowError where a product gives inf.
    sxx = sum((x - mean_x) * (x - mean_x) for x in xs)
    syy = sum((y - mean_y) * (y - mean_y) for y in ys)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    if not all(math.isfinite(v) for v in (sxx, syy, sxy)) or sxx <= 0 or syy <= 0:
        return None
    slope = sxy / sxx
    fit = (sxy / sxx) * (sxy / syy)  # r², without overflowing sxx * syy
    if slope < MIN_RISE_PERCENT_PER_HOUR or fit < MIN_FIT:
        return None
    latest = mean_y + slope * (xs[-1] - mean_x)
    hours = max(100.0 - latest, 0.0) / slope
    return hours if math.isfinite(hours) else None


def enough_samples(count: int, span_seconds: int) -> bool:
    """Whether there are enough samples over enough time to judge a trend at all."""
    return count >= MIN_SAMPLES and span_seconds >= MIN_SPAN_SECONDS


@dataclass(slots=True)
class DiskTrend:
    """Recent used-% samples of one filesystem, at most one per ``SAMPLE_SPACING_SECONDS``.

    Kept in two arrays (16 bytes a sample instead of about 120 as tuples): at 1,000 hosts
    with two filesystems each, a full 6-hour window is 2 MB instead of 17 MB."""

    _times: array[int] = field(default_factory=lambda: array("q"))
    _percents: array[float] = field(default_factory=lambda: array("d"))
    _hours: float | None = None  # the fit of the samples kept, redone when one is added

    @property
    def samples(self) -> list[tuple[int, float]]:
        return list(zip(self._times, self._percents, strict=True))

    def add(self, at: int, percent: float) -> None:
        if self._times and at - self._times[-1] < SAMPLE_SPACING_SECONDS:
            return
        self._times.append(at)
        self._percents.append(percent)
        expired = bisect_left(self._times, at - WINDOW_SECONDS)
        if expired:
            del self._times[:expired], self._percents[:expired]
        self._hours = hours_until_full(self.samples)

    @property
    def ready(self) -> bool:
        """Enough samples over enough time for ``hours_until_full`` to judge the trend."""
        times = self._times
        return bool(times) and enough_samples(len(times), times[-1] - times[0])

    def hours_until_full(self) -> float | None:
        return self._hours

"""Min/avg/max buckets: computing them from samples, widening them, merging stored and new ones.

Pure functions, no I/O. A bucket starts at a multiple of its width (seconds since the epoch).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Buckets:
    """Parallel columns, ordered by ``timestamps`` (each bucket's start)."""

    timestamps: list[int]
    counts: list[int]
    minimum: list[float]
    average: list[float]
    maximum: list[float]

    @classmethod
    def empty(cls) -> Buckets:
        return cls([], [], [], [], [])

    def __len__(self) -> int:
        return len(self.timestamps)

    def between(self, start: int, end: int) -> Buckets:
        """The buckets that start in [start, end)."""
        lo = bisect_left(self.timestamps, start)
        hi = bisect_left(self.timestamps, end)
        if lo == 0 and hi == len(self.timestamps):
            return self
        return Buckets(
            self.timestamps[lo:hi],
            self.counts[lo:hi],
            self.minimum[lo:hi],
            self.average[lo:hi],
            self.maximum[lo:hi],
        )

    def rows(self) -> Iterable[Row]:
        return zip(
            self.timestamps, self.counts, self.minimum, self.average, self.maximum, strict=True
        )


def from_samples(points: Iterable[tuple[int, float]], width: int) -> Buckets:
    """Bucket (ts, value) pairs, which must be ordered by time."""
    out = Buckets.empty()
    current = None
    count, low, total, high = 0, 0.0, 0.0, 0.0
    for ts, value in points:
        start = ts - ts % width
        if start != current:
            if current is not None:
                _append(out, (current, count, low, total / count, high))
            current, count, low, total, high = start, 0, value, 0.0, value
        count += 1
        total += value
        if value < low:
            low = value
        elif value > high:
            high = value
    if current is not None:
        _append(out, (current, count, low, total / count, high))
    return out


def widen(buckets: Buckets, width: int) -> Buckets:
    """Combine buckets into buckets of ``width`` seconds (a multiple of theirs); the average
    is weighted by the number of samples behind each bucket."""
    out = Buckets.empty()
    current = None
    count, low, total, high = 0, 0.0, 0.0, 0.0
    for ts, n, lo, avg, hi in buckets.rows():
        start = ts - ts % width
        if start != current:
            if current is not None:
                _append(out, (current, count, low, total / count, high))
            current, count, low, total, high = start, 0, lo, 0.0, hi
        count += n
        total += avg * n
        low = min(low, lo)
        high = max(high, hi)
    if current is not None:
        _append(out, (current, count, low, total / count, high))
    return out


def overlay(old: Buckets, new: Buckets) -> Buckets:
    """``old`` with ``new`` added; where both have a bucket, the one from ``new`` wins."""
    if not old:
        return new
    if not new or old.timestamps[-1] < new.timestamps[0]:
        return concat(old, new)
    merged = {row[0]: row for row in old.rows()}
    merged.update((row[0], row) for row in new.rows())
    return _from_rows(sorted(merged.values()))


def concat(first: Buckets, second: Buckets) -> Buckets:
    """Both, in order; every bucket of ``second`` must start after the last of ``first``."""
    if not first:
        return second
    if not second:
        return first
    return Buckets(
        first.timestamps + second.timestamps,
        first.counts + second.counts,
        first.minimum + second.minimum,
        first.average + second.average,
        first.maximum + second.maximum,
    )


def _from_rows(rows: list[Row]) -> Buckets:
    out = Buckets.empty()
    for row in rows:
        _append(out, row)
    return out


Row = tuple[int, int, float, float, float]


def _append(out: Buckets, row: Row) -> None:
    ts, count, low, avg, high = row
    out.timestamps.append(ts)
    out.counts.append(count)
    out.minimum.append(low)
    out.average.append(avg)
    out.maximum.append(high)

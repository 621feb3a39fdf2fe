"""Min/avg/max buckets: computing them from samples, widening them, merging stored and new ones.

Pure functions, no I/O. A bucket starts at a multiple of its width (seconds since the epoch).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial, reduce
from itertools import compress, pairwise, repeat
from operator import add, itemgetter, mod, mul, ne, sub, truediv


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
    pairs = points if isinstance(points, list) else list(points)
    if not pairs:
        return Buckets.empty()
    values = list(map(itemgetter(1), pairs))
    starts, cuts = _runs(list(map(itemgetter(0), pairs)), width)
    size = _regular(cuts)
    if size is not None:  # every bucket holds as many samples: whole columns at once
        columns = [values[i::size] for i in range(size)]
        sums = reduce(partial(map, add), columns[1:], iter(columns[0]))
        return Buckets(
            starts[::size],
            [size] * (len(values) // size),
            list(map(min, *columns)) if size > 1 else columns[0],
            list(map(truediv, sums, repeat(size))),
            list(map(max, *columns)) if size > 1 else columns[0],
        )
    out = Buckets.empty()
    for first, end in pairwise(cuts):
        part = values[first:end]
        _append(out, (starts[first], end - first, min(part), sum(part) / (end - first), max(part)))
    return out


def widen(buckets: Buckets, width: int) -> Buckets:
    """Combine buckets into buckets of ``width`` seconds (a multiple of theirs); the average
    is weighted by the number of samples behind each bucket."""
    out = Buckets.empty()
    counts, averages = buckets.counts, buckets.average
    starts, cuts = _runs(buckets.timestamps, width)
    for first, end in pairwise(cuts):
        count = sum(counts[first:end])
        total = sum(map(mul, averages[first:end], counts[first:end]))
        low, high = min(buckets.minimum[first:end]), max(buckets.maximum[first:end])
        _append(out, (starts[first], count, low, total / count, high))
    return out


def _runs(timestamps: list[int], width: int) -> tuple[list[int], list[int]]:
    """The bucket start of each ordered timestamp, and the indexes where a new bucket begins
    (with 0 and the length at the ends). Per-item work in C (map, compress): roll-ups bucket
    millions of samples an hour."""
    starts = list(map(sub, timestamps, map(mod, timestamps, repeat(width))))
    cuts = [0, *compress(range(1, len(starts)), map(ne, starts[1:], starts)), len(starts)]
    return starts, cuts


def _regular(cuts: list[int]) -> int | None:
    """The common size of every run, if they all have the same (samples on a fixed grid)."""
    size = cuts[1]
    return size if cuts == list(range(0, cuts[-1] + 1, size)) else None


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

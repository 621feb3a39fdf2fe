"""Reading metric history: raw samples (rows and hourly chunks) and min/avg/max rollups.

``HistoryReader.series`` is what a chart wants: it picks the resolution from the requested
range so that one series never has more than ``max_points`` points.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select

from vpshealth.store.buckets import Buckets, from_samples, overlay, widen
from vpshealth.store.compaction import CHUNK_SECONDS, read_raw
from vpshealth.store.maintenance import Retention
from vpshealth.store.rollups import HOUR, MINUTE, read_rollups
from vpshealth.store.schema import rollup_progress, sample_chunks, samples, series
from vpshealth.store.staged_samples import read_staged

RAW = 0
DEFAULT_MAX_POINTS = 2000
CHART_MAX_POINTS = 1500
"""Per line of a chart (the GUI's, the API's history): more than a chart is wide in pixels."""
# Raw samples are used up to max_points * this many seconds (10 s is the default interval).
RAW_SECONDS_PER_POINT = 10
_NO_END = 2**62  # a time after every sample


@dataclass(frozen=True, slots=True)
class Point:
    ts: int
    value: float


@dataclass(frozen=True, slots=True)
class SeriesData:
    """One metric of one host between ``start`` and ``end`` (inclusive), ready to plot.

    ``resolution`` is where the points come from: ``RAW`` (0) for raw samples, else 60 or
    3600 (1-minute or 1-hour rollups). ``bucket_seconds`` is the width of each point: 0 when
    every point is one raw sample (then min, avg and max are the same list), else each point
    covers [timestamp, timestamp + bucket_seconds). Timestamps are Unix seconds, ascending.
    """

    host_id: int
    metric: str
    start: int
    end: int
    resolution: int
    bucket_seconds: int
    timestamps: list[int]
    minimum: list[float]
    average: list[float]
    maximum: list[float]

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def values(self) -> list[float]:
        """One value per point: the sample, or the bucket's average."""
        return self.average


class HistoryReader:
    def __init__(self, engine: Engine, retention: Retention | None = None) -> None:
        self._engine = engine
        self._retention = retention or Retention()

    def resolution_for(self, start: int, end: int, max_points: int, now: int) -> int:
        """Raw samples for short ranges, then 1-minute, then 1-hour buckets; a coarser one
        when the range starts before the finer resolution's retention."""
        span = max(end - start, 0)
        if span <= max_points * RAW_SECONDS_PER_POINT and start >= now - self._retention.raw:
            return RAW
        if span <= max_points * MINUTE and start >= now - self._retention.minute:
            return MINUTE
        return HOUR

    def series(
        self,
        host_id: int,
        metric: str,
        start: int,
        end: int,
        max_points: int = DEFAULT_MAX_POINTS,
        *,
        now: int | None = None,
    ) -> SeriesData:
        """The metric between ``start`` and ``end`` with at most ``max_points`` points
        (at least 2). Unknown hosts or metrics give an empty result."""
        if max_points < 2:
            raise ValueError("max_points must be at least 2")
        today = int(time.time()) if now is None else now
        resolution = self.resolution_for(start, end, max_points, today)
        with self._engine.connect() as conn:
            series_id = conn.execute(
                select(series.c.id).where(series.c.host_id == host_id, series.c.metric == metric)
            ).scalar_one_or_none()
            raw_kept = start >= today - self._retention.raw
            if (
                series_id is not None
                and resolution != RAW
                and raw_kept
                and _raw_count(conn, series_id, start, end) <= max_points
            ):
                resolution = RAW  # sparse samples (a slow interval, a new host): show them all
            if series_id is None:
                buckets, width = Buckets.empty(), resolution
            elif resolution == RAW:
                points = read_raw(conn, [series_id], start, end + 1).get(series_id, [])
                if len(points) <= max_points:
                    ts = [p[0] for p in points]
                    values = [p[1] for p in points]
                    return SeriesData(
                        host_id, metric, start, end, RAW, 0, ts, values, values, values
                    )
                width = _width(end - start, max_points, 1)
                buckets = from_samples(points, width)
            else:
                buckets = _rollup_range(conn, series_id, resolution, start, end)
                width = resolution
                if len(buckets) > max_points:
                    width = _width(end - start, max_points, resolution)
                    buckets = widen(buckets, width)
        return SeriesData(
            host_id,
            metric,
            start,
            end,
            resolution,
            width,
            buckets.timestamps,
            buckets.minimum,
            buckets.average,
            buckets.maximum,
        )

    def metrics_of(self, host_id: int) -> list[str]:
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    select(series.c.metric)
                    .where(series.c.host_id == host_id)
                    .order_by(series.c.metric)
                ).scalars()
            )

    def points(
        self, host_id: int, metric: str, since: int, until: int | None = None
    ) -> list[Point]:
        with self._engine.connect() as conn:
            series_id = conn.execute(
                select(series.c.id).where(series.c.host_id == host_id, series.c.metric == metric)
            ).scalar_one_or_none()
            if series_id is None:
                return []
            end = _NO_END if until is None else until + 1
            found = read_raw(conn, [series_id], since, end).get(series_id, [])
        return [Point(ts, value) for ts, value in found]


def _rollup_range(
    conn: Connection, series_id: int, resolution: int, start: int, end: int
) -> Buckets:
    """Stored buckets up to the resolution's watermark, then buckets computed from the raw
    samples after it (the last hour or so, not rolled up yet)."""
    first = start - start % resolution
    stored = read_rollups(conn, [series_id], resolution, first, end + 1).get(
        series_id, Buckets.empty()
    )
    done = conn.execute(
        select(rollup_progress.c.done_until).where(rollup_progress.c.resolution == resolution)
    ).scalar_one_or_none()
    tail_start = first if done is None else max(first, int(done))
    if tail_start > end:
        return stored
    raw = read_raw(conn, [series_id], tail_start, end + 1).get(series_id, [])
    return overlay(stored.between(first, tail_start), from_samples(raw, resolution))


def _raw_count(conn: Connection, series_id: int, start: int, end: int) -> int:
    """About how many raw samples lie in [start, end]: whole hourly chunks are counted from
    their stored counts, without decoding them."""
    in_chunks = conn.execute(
        select(func.coalesce(func.sum(sample_chunks.c.count), 0)).where(
            sample_chunks.c.series_id == series_id,
            sample_chunks.c.start_ts > start - CHUNK_SECONDS,
            sample_chunks.c.start_ts <= end,
        )
    ).scalar_one()
    in_rows = conn.execute(
        select(func.count()).where(
            samples.c.series_id == series_id, samples.c.ts >= start, samples.c.ts <= end
        )
    ).scalar_one()
    staged = read_staged(conn, [series_id], start, end).get(series_id, [])
    return int(in_chunks) + int(in_rows) + len(staged)


def _width(span: int, max_points: int, unit: int) -> int:
    """The narrowest multiple of ``unit`` that splits ``span`` into at most ``max_points``
    aligned buckets."""
    return unit * max(1, math.ceil(span / ((max_points - 1) * unit)))

"""Computing the 1-minute and 1-hour min/avg/max rollups, incrementally.

Each resolution has a watermark in ``rollup_progress``: every bucket before it is done. A run
only reads what lies between the watermark and its target, one block (6 hours of 1-minute
buckets, 10 days of 1-hour buckets) and a few dozen series per transaction, and then moves
the watermark. Running again over a window that was done already (after a crash between two
transactions) rewrites the same buckets, so a run can always be repeated.

* 1-minute buckets come from the raw samples, up to the last full step (6 hours unless told
  otherwise) that ended at least ``lag`` seconds ago (so a sample written a little late is
  still counted).
* 1-hour buckets come from the 1-minute buckets, up to the 1-minute watermark.

Run it after ``Compactor.compact``: both read raw rows and chunks, but the compactor keeps the
rows table small.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.store import chunk_codec
from vpshealth.store.buckets import Buckets, from_samples, overlay, widen
from vpshealth.store.compaction import hour_of, read_raw
from vpshealth.store.id_lists import one_of
from vpshealth.store.schema import rollup_progress, rollups, sample_chunks, samples, series
from vpshealth.store.staged_samples import oldest_staged

log = logging.getLogger(__name__)

MINUTE = 60
HOUR = 3600
DAY = 86_400
MINUTE_BLOCK_SECONDS = 6 * HOUR
HOUR_BLOCK_SECONDS = 10 * DAY
LAG_SECONDS = 120


def block_seconds(resolution: int) -> int:
    return MINUTE_BLOCK_SECONDS if resolution == MINUTE else HOUR_BLOCK_SECONDS


def block_of(ts: int, resolution: int) -> int:
    return ts - ts % block_seconds(resolution)


@dataclass(frozen=True, slots=True)
class RollupReport:
    minute_buckets: int
    hour_buckets: int
    done: bool = True
    """False when the time budget ran out first: call ``run`` again to go on."""


Source = Callable[[Connection, Sequence[int], int, int], dict[int, Buckets]]


@dataclass(frozen=True, slots=True)
class _Resume:
    """Where a run that ran out of time stopped: the window and the last series done."""

    resolution: int
    start: int
    end: int
    series_id: int


class Rollups:
    def __init__(
        self,
        engine: Engine,
        *,
        series_per_transaction: int = 50,
        lag: int = LAG_SECONDS,
        step: int = MINUTE_BLOCK_SECONDS,
    ) -> None:
        """``step``: the 1-minute watermark moves in whole steps of this many seconds (whole
        hours that divide the 6-hour block). The default rolls up a whole block at once, so
        each block is encoded once instead of once per hour as it fills; charts compute the
        hours not rolled up yet from the raw samples."""
        if step <= 0 or step % HOUR or MINUTE_BLOCK_SECONDS % step:
            raise ValueError(f"a rollup step must be whole hours that divide 6 hours: {step}")
        self._engine = engine
        self._batch = series_per_transaction
        self._lag = lag
        self._step = step
        self._resume: _Resume | None = None

    def run(self, now: int, budget_seconds: float | None = None) -> RollupReport:
        """Bring both resolutions up to date; returns how many buckets were written. With a
        budget, stop after the first transaction that ends past it (``done`` is then False)
        so that a caller sharing a thread can do other work in between."""
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        settled = now - self._lag
        minute_target = settled - settled % self._step
        minutes, done = self._advance(
            MINUTE, minute_target, self._first_raw, _minutes_from_raw, deadline
        )
        hours = 0
        hour_target = done_until(self._engine, MINUTE)
        if done and hour_target is not None:
            hours, done = self._advance(
                HOUR, hour_target, self._first_minute, _hours_from_minutes, deadline
            )
        if minutes or hours:
            log.debug("Wrote %d 1-minute and %d 1-hour buckets", minutes, hours)
        return RollupReport(minutes, hours, done)

    def _advance(
        self,
        resolution: int,
        target: int,
        first: Callable[[], int | None],
        source: Source,
        deadline: float | None,
    ) -> tuple[int, bool]:
        start = done_until(self._engine, resolution)
        if start is None:
            start = first()
            if start is None:  # nothing stored yet: start from here
                _set_done_until(self._engine, resolution, target)
                return 0, True
        written = 0
        while start < target:
            block = block_of(start, resolution)
            end = min(target, block + block_seconds(resolution))
            resume, self._resume = self._resume, None
            after = 0
            if resume is not None and (resume.resolution, resume.start, resume.end) == (
                resolution,
                start,
                end,
            ):
                after = resume.series_id
            batches = self._series_batches(after)
            for index, batch in enumerate(batches):
                with self._engine.begin() as conn:
                    fresh = source(conn, batch, start, end)
                    if fresh:
                        _store(conn, resolution, block, fresh)
                    written += sum(map(len, fresh.values()))
                out_of_time = deadline is not None and time.monotonic() > deadline
                if out_of_time and index + 1 < len(batches):
                    self._resume = _Resume(resolution, start, end, batch[-1])
                    return written, False
            _set_done_until(self._engine, resolution, end)
            start = end
        return written, True

    def _series_batches(self, after: int) -> list[list[int]]:
        """The ids of every series above ``after``, in batches of one transaction each."""
        with self._engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(series.c.id).where(series.c.id > after).order_by(series.c.id)
                ).scalars()
            )
        return [ids[i : i + self._batch] for i in range(0, len(ids), self._batch)]

    def _first_raw(self) -> int | None:
        with self._engine.connect() as conn:
            oldest = [
                conn.execute(select(func.min(sample_chunks.c.start_ts))).scalar_one(),
                conn.execute(select(func.min(samples.c.ts))).scalar_one(),
                oldest_staged(conn),
            ]
        known = [hour_of(int(ts)) for ts in oldest if ts is not None]
        return min(known, default=None)

    def _first_minute(self) -> int | None:
        with self._engine.connect() as conn:
            oldest = conn.execute(
                select(func.min(rollups.c.start_ts)).where(rollups.c.resolution == MINUTE)
            ).scalar_one()
        return None if oldest is None else int(oldest)


def done_until(engine: Engine, resolution: int) -> int | None:
    """The watermark of a resolution: every bucket before it has been computed."""
    with engine.connect() as conn:
        value = conn.execute(
            select(rollup_progress.c.done_until).where(rollup_progress.c.resolution == resolution)
        ).scalar_one_or_none()
    return None if value is None else int(value)


def read_rollups(
    conn: Connection, series_ids: Sequence[int], resolution: int, start: int, end: int
) -> dict[int, Buckets]:
    """The stored buckets of each series that start in [start, end)."""
    blocks = conn.execute(
        select(rollups.c.series_id, rollups.c.data)
        .where(
            one_of(rollups.c.series_id, series_ids),
            rollups.c.resolution == resolution,
            rollups.c.start_ts > start - block_seconds(resolution),
            rollups.c.start_ts < end,
        )
        .order_by(rollups.c.series_id, rollups.c.start_ts)
    )
    found: dict[int, Buckets] = {}
    for series_id, blob in blocks:
        try:
            buckets = Buckets(*chunk_codec.decode_rollup(blob))
        except ValueError:
            log.warning("Skipped a damaged rollup block of series %d", series_id)
            continue
        found[series_id] = overlay(found.get(series_id, Buckets.empty()), buckets)
    return {sid: b.between(start, end) for sid, b in found.items() if b.between(start, end)}


def _minutes_from_raw(
    conn: Connection, series_ids: Sequence[int], start: int, end: int
) -> dict[int, Buckets]:
    return {
        series_id: from_samples(points, MINUTE)
        for series_id, points in read_raw(conn, series_ids, start, end).items()
        if points
    }


def _hours_from_minutes(
    conn: Connection, series_ids: Sequence[int], start: int, end: int
) -> dict[int, Buckets]:
    return {
        series_id: widen(minutes, HOUR)
        for series_id, minutes in read_rollups(conn, series_ids, MINUTE, start, end).items()
    }


# REPLACE deletes the old version of a block and appends the new one under a new rowid,
# instead of growing it in place. A growing row splits its page and leaves it half empty;
# this way the short-lived versions of an open block fill pages of their own, which empty out
# completely an hour later and are reused, while finished blocks end up packed together.
_REPLACE_BLOCK = (
    "REPLACE INTO rollups (series_id, resolution, start_ts, end_ts, count, data) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _store(conn: Connection, resolution: int, block: int, fresh: dict[int, Buckets]) -> None:
    """Merge each series' new buckets (all inside ``block``) into its stored block: one
    query to read the blocks, one statement to write them."""
    found = conn.execute(
        select(rollups.c.series_id, rollups.c.data).where(
            one_of(rollups.c.series_id, fresh),
            rollups.c.resolution == resolution,
            rollups.c.start_ts == block,
        )
    )
    existing: dict[int, bytes] = {row[0]: row[1] for row in found}
    rows = []
    for series_id, buckets in fresh.items():
        merged = buckets
        stored = existing.get(series_id)
        if stored is not None:
            try:
                merged = overlay(Buckets(*chunk_codec.decode_rollup(stored)), buckets)
            except ValueError:
                log.warning("Replaced a damaged rollup block of series %d", series_id)
        blob = chunk_codec.encode_rollup(
            merged.timestamps, merged.counts, merged.minimum, merged.average, merged.maximum
        )
        rows.append((series_id, resolution, block, merged.timestamps[-1], len(merged), blob))
    conn.exec_driver_sql(_REPLACE_BLOCK, rows)


def _set_done_until(engine: Engine, resolution: int, ts: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sqlite_insert(rollup_progress)
            .values(resolution=resolution, done_until=ts)
            .on_conflict_do_update(index_elements=["resolution"], set_={"done_until": ts})
        )

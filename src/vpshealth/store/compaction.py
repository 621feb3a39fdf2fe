"""Folding raw sample rows into compressed hourly chunks.

Rows older than the current hour are grouped per series and hour, encoded with
``chunk_codec`` and stored in ``sample_chunks``; the rows are then deleted, in the same small
transaction, so readers always see every sample exactly once. A late row for an hour that was
already folded is merged into that hour's chunk.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, delete, func, select

from vpshealth.store import chunk_codec
from vpshealth.store.schema import sample_chunks, samples, series

log = logging.getLogger(__name__)

CHUNK_SECONDS = 3600


def hour_of(ts: int) -> int:
    return ts - ts % CHUNK_SECONDS


class Compactor:
    def __init__(self, engine: Engine, series_per_transaction: int = 50) -> None:
        self._engine = engine
        self._batch = series_per_transaction
        self._resume: tuple[int, int] | None = None  # (boundary, last series id done)
        self.done = True
        """False when the last ``compact`` ran out of time: call it again to go on."""

    def compact(self, now: int, budget_seconds: float | None = None) -> int:
        """Fold every row from before the current hour; returns the number of rows folded.
        With a budget, stop after the first transaction that ends past it and set ``done``
        to False; the next call goes on from there."""
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        boundary = hour_of(now)
        after = 0
        if self._resume is not None and self._resume[0] == boundary:
            after = self._resume[1]
        with self._engine.connect() as conn:
            # Every series, not only those with old rows: finding those would scan the whole
            # rows table, while a series with nothing to fold costs one index lookup.
            pending = list(
                conn.execute(
                    select(series.c.id).where(series.c.id > after).order_by(series.c.id)
                ).scalars()
            )
        self._resume, self.done = None, True
        folded = 0
        for start in range(0, len(pending), self._batch):
            batch = pending[start : start + self._batch]
            with self._engine.begin() as conn:
                folded += _fold(conn, batch, boundary)
            more = start + self._batch < len(pending)
            if deadline is not None and time.monotonic() > deadline and more:
                self._resume, self.done = (boundary, batch[-1]), False
                break
        if folded:
            log.debug("Folded %d samples into chunks", folded)
        return folded


_UPSERT_CHUNK = (
    "INSERT INTO sample_chunks (series_id, start_ts, end_ts, count, codec, data) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, start_ts) DO UPDATE SET "
    "end_ts = excluded.end_ts, count = excluded.count, codec = excluded.codec, "
    "data = excluded.data"
)


def _fold(conn: Connection, series_ids: list[int], boundary: int) -> int:
    """Fold the rows of a few series into their hourly chunks (merging a late row into a
    chunk already stored) and delete the rows: one statement per step for all of them."""
    rows = conn.execute(
        select(samples.c.series_id, samples.c.ts, samples.c.value)
        .where(samples.c.series_id.in_(series_ids), samples.c.ts < boundary)
        .order_by(samples.c.series_id, samples.c.ts)
    ).all()
    hours: dict[tuple[int, int], dict[int, float]] = defaultdict(dict)
    for series_id, ts, value in rows:
        hours[series_id, hour_of(ts)][ts] = value
    stored = conn.execute(
        select(
            sample_chunks.c.series_id,
            sample_chunks.c.start_ts,
            sample_chunks.c.codec,
            sample_chunks.c.data,
        ).where(
            sample_chunks.c.series_id.in_(series_ids),
            sample_chunks.c.start_ts.in_({hour for _, hour in hours}),
        )
    )
    for series_id, hour, codec, blob in stored:
        points = hours.get((series_id, hour))
        if points is None:
            continue
        try:
            old_ts, old_values = chunk_codec.decode(codec, blob)
        except ValueError:
            log.warning("Replaced a damaged history chunk of series %d", series_id)
        else:
            hours[series_id, hour] = {**dict(zip(old_ts, old_values, strict=True)), **points}
    chunks = []
    for (series_id, hour), points in hours.items():
        ordered = sorted(points.items())
        codec, data = chunk_codec.encode([p[0] for p in ordered], [p[1] for p in ordered])
        chunks.append((series_id, hour, ordered[-1][0], len(ordered), codec, data))
    if chunks:
        conn.exec_driver_sql(_UPSERT_CHUNK, chunks)
    conn.execute(
        delete(samples).where(samples.c.series_id.in_(series_ids), samples.c.ts < boundary)
    )
    return len(rows)


def decode_chunks(
    chunks: Iterable[tuple[int, bytes]], since: int, until: int | None
) -> list[tuple[int, float]]:
    """The points of stored chunks that fall inside [since, until]."""
    points: list[tuple[int, float]] = []
    for codec, blob in chunks:
        try:
            timestamps, values = chunk_codec.decode(codec, blob)
        except ValueError:
            log.warning("Skipped a damaged history chunk")
            continue
        points.extend(
            (ts, v)
            for ts, v in zip(timestamps, values, strict=True)
            if ts >= since and (until is None or ts <= until)
        )
    return points


def read_raw(
    conn: Connection, series_ids: Sequence[int], start: int, end: int
) -> dict[int, list[tuple[int, float]]]:
    """Raw points with ``start <= ts < end`` of each series, ordered by time, from chunks and
    rows alike (a row wins over a chunk's point with the same time)."""
    found: dict[int, dict[int, float]] = defaultdict(dict)
    chunks = conn.execute(
        select(sample_chunks.c.series_id, sample_chunks.c.codec, sample_chunks.c.data)
        .where(
            sample_chunks.c.series_id.in_(series_ids),
            sample_chunks.c.start_ts > start - CHUNK_SECONDS,
            sample_chunks.c.start_ts < end,
        )
        .order_by(sample_chunks.c.series_id, sample_chunks.c.start_ts)
    )
    for series_id, codec, blob in chunks:
        found[series_id].update(decode_chunks([(codec, blob)], start, end - 1))
    rows = conn.execute(
        select(samples.c.series_id, samples.c.ts, samples.c.value).where(
            samples.c.series_id.in_(series_ids), samples.c.ts >= start, samples.c.ts < end
        )
    )
    for series_id, ts, value in rows:
        found[series_id][ts] = value
    return {series_id: sorted(points.items()) for series_id, points in found.items()}


def count_rows(engine: Engine) -> tuple[int, int]:
    """(raw rows, samples inside chunks) — for statistics and tests."""
    with engine.connect() as conn:
        raw = conn.execute(select(func.count()).select_from(samples)).scalar_one()
        chunked = conn.execute(
            select(func.coalesce(func.sum(sample_chunks.c.count), 0))
        ).scalar_one()
    return int(raw), int(chunked)

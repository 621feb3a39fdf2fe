"""Folding raw sample rows into compressed hourly chunks.

Rows older than the current hour are grouped per series and hour, encoded with
``chunk_codec`` and stored in ``sample_chunks``; the rows are then deleted, in the same small
transaction, so readers always see every sample exactly once. A late row for an hour that was
already folded is merged into that hour's chunk.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Connection, Engine, func, select

from vpshealth.store import chunk_codec
from vpshealth.store.id_lists import one_of
from vpshealth.store.schema import sample_chunks, samples
from vpshealth.store.staged_samples import count_staged, move_staged, read_staged

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
        """Fold every row from before the current hour (staged samples are moved to their
        series first); returns the number of rows folded. With a budget, stop after the first
        transaction that ends past it and set ``done`` to False; the next call goes on from
        there."""
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        boundary = hour_of(now)
        after = 0
        if self._resume is not None and self._resume[0] == boundary:
            after = self._resume[1]
        else:
            move_staged(self._engine)
        with self._engine.connect() as conn:
            pending = [row[0] for row in _cursor(conn).execute(_SERIES_TO_FOLD, (after, boundary))]
        self._resume, self.done = None, True
        folded = 0
        for start in range(0, len(pending), self._batch):
            batch = pending[start : start + self._batch]
            with self._engine.begin() as conn:
                folded += _fold(_cursor(conn), batch, boundary)
            more = start + self._batch < len(pending)
            if deadline is not None and time.monotonic() > deadline and more:
                self._resume, self.done = (boundary, batch[-1]), False
                break
        if folded:
            log.debug("Folded %d samples into chunks", folded)
        return folded


# One primary-key lookup per series (rows of the current hour sort after the boundary), all
# inside SQLite: a pass with nothing to fold costs milliseconds, not a transaction per batch.
_SERIES_TO_FOLD = (
    "SELECT id FROM series WHERE id > ? AND EXISTS "
    "(SELECT 1 FROM samples WHERE samples.series_id = series.id AND samples.ts < ?) "
    "ORDER BY id"
)
# The ids of a batch go in as one JSON array parameter: one prepared statement for any batch.
_ROWS_TO_FOLD = (
    "SELECT series_id, ts, value FROM samples "
    "WHERE series_id IN (SELECT value FROM json_each(?)) AND ts < ? ORDER BY series_id, ts"
)
_STORED_CHUNKS = (
    "SELECT series_id, start_ts, codec, data FROM sample_chunks "
    "WHERE series_id IN (SELECT value FROM json_each(?)) "
    "AND start_ts IN (SELECT value FROM json_each(?))"
)
_DELETE_FOLDED = (
    "DELETE FROM samples WHERE series_id IN (SELECT value FROM json_each(?)) AND ts < ?"
)
_UPSERT_CHUNK = (
    "INSERT INTO sample_chunks (series_id, start_ts, end_ts, count, codec, data) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, start_ts) DO UPDATE SET "
    "end_ts = excluded.end_ts, count = excluded.count, codec = excluded.codec, "
    "data = excluded.data"
)

Points = tuple[Sequence[int], Sequence[float]]


def _cursor(conn: Connection) -> sqlite3.Cursor:
    """A plain sqlite3 cursor inside the connection's transaction: the hourly fold moves
    millions of rows, and plain tuples cost half as much as SQLAlchemy's rows."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver.cursor()


def _fold(cursor: sqlite3.Cursor, series_ids: list[int], boundary: int) -> int:
    """Fold the rows of a few series into their hourly chunks (merging a late row into a
    chunk already stored) and delete the rows: one statement per step for all of them."""
    ids = json.dumps(series_ids)
    rows = cursor.execute(_ROWS_TO_FOLD, (ids, boundary)).fetchall()
    if not rows:
        return 0
    hours: dict[tuple[int, int], Points] = {}
    for series_id, group in groupby(rows, key=itemgetter(0)):
        _, timestamps, values = zip(*group, strict=True)
        for hour, points in _split_by_hour(timestamps, values):
            hours[series_id, hour] = points
    hour_starts = json.dumps(sorted({hour for _, hour in hours}))
    for series_id, hour, codec, blob in cursor.execute(_STORED_CHUNKS, (ids, hour_starts)):
        if (series_id, hour) in hours:
            hours[series_id, hour] = _merged(series_id, codec, blob, hours[series_id, hour])
    chunks = [
        (series_id, hour, timestamps[-1], len(timestamps), *chunk_codec.encode(timestamps, values))
        for (series_id, hour), (timestamps, values) in hours.items()
    ]
    cursor.executemany(_UPSERT_CHUNK, chunks)
    cursor.execute(_DELETE_FOLDED, (ids, boundary))
    return len(rows)


def _split_by_hour(
    timestamps: Sequence[int], values: Sequence[float]
) -> Iterator[tuple[int, Points]]:
    """Ordered points cut into their hours (nearly always a single hour)."""
    start = 0
    while start < len(timestamps):
        hour = hour_of(timestamps[start])
        end = bisect_left(timestamps, hour + CHUNK_SECONDS, start)
        yield hour, (timestamps[start:end], values[start:end])
        start = end


def _merged(series_id: int, codec: int, blob: bytes, points: Points) -> Points:
    """A stored chunk's points with late rows laid over them (a row wins at the same time)."""
    try:
        old_timestamps, old_values = chunk_codec.decode(codec, blob)
    except ValueError:
        log.warning("Replaced a damaged history chunk of series %d", series_id)
        return points
    merged = dict(zip(old_timestamps, old_values, strict=True))
    merged.update(zip(*points, strict=True))
    timestamps = sorted(merged)
    return timestamps, [merged[ts] for ts in timestamps]


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
        first = bisect_left(timestamps, since)  # decoded timestamps are strictly increasing
        end = len(timestamps) if until is None else bisect_right(timestamps, until)
        points.extend(zip(timestamps[first:end], values[first:end], strict=True))
    return points


def read_raw(
    conn: Connection, series_ids: Sequence[int], start: int, end: int
) -> dict[int, list[tuple[int, float]]]:
    """Raw points with ``start <= ts < end`` of each series, ordered by time, from chunks and
    rows alike (a row wins over a chunk's point with the same time)."""
    chunked: dict[int, list[tuple[int, float]]] = defaultdict(list)
    chunks = conn.execute(
        select(sample_chunks.c.series_id, sample_chunks.c.codec, sample_chunks.c.data)
        .where(
            one_of(sample_chunks.c.series_id, series_ids),
            sample_chunks.c.start_ts > start - CHUNK_SECONDS,
            sample_chunks.c.start_ts < end,
        )
        .order_by(sample_chunks.c.series_id, sample_chunks.c.start_ts)
    )
    for series_id, codec, blob in chunks:  # hours in order: their points are in order too
        chunked[series_id].extend(decode_chunks([(codec, blob)], start, end - 1))
    rows: dict[int, list[tuple[int, float]]] = defaultdict(list)
    found = conn.execute(
        select(samples.c.series_id, samples.c.ts, samples.c.value)
        .where(one_of(samples.c.series_id, series_ids), samples.c.ts >= start, samples.c.ts < end)
        .order_by(samples.c.series_id, samples.c.ts)
    )
    for series_id, ts, value in found:
        rows[series_id].append((ts, value))
    for series_id, staged in read_staged(conn, series_ids, start, end - 1).items():
        rows[series_id] = _after_each_other(staged, rows.get(series_id, []))
    return {
        series_id: _after_each_other(chunked.get(series_id, []), rows.get(series_id, []))
        for series_id in chunked.keys() | rows.keys()
    }


def _after_each_other(
    first: list[tuple[int, float]], second: list[tuple[int, float]]
) -> list[tuple[int, float]]:
    """Two ordered lists of points as one; a point of ``second`` wins at the same time. They
    nearly always follow each other: chunks before the rows of the current hour, those rows
    before the staged ones."""
    if not first or not second or first[-1][0] < second[0][0]:
        return first + second
    if second[-1][0] < first[0][0]:
        return second + first
    merged = dict(first)
    merged.update(second)
    return sorted(merged.items())


def count_rows(engine: Engine) -> tuple[int, int]:
    """(raw rows, staged ones included; samples inside chunks) — for statistics and tests."""
    with engine.connect() as conn:
        raw = conn.execute(select(func.count()).select_from(samples)).scalar_one()
        raw += count_staged(conn)
        chunked = conn.execute(
            select(func.coalesce(func.sum(sample_chunks.c.count), 0))
        ).scalar_one()
    return int(raw), int(chunked)

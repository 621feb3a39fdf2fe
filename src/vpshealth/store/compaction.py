"""Folding raw sample rows into compressed hourly chunks.

Rows older than the current hour are grouped per series and hour, encoded with
``chunk_codec`` and stored in ``sample_chunks``; the rows are then deleted, in the same small
transaction, so readers always see every sample exactly once. A late row for an hour that was
already folded is merged into that hour's chunk.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.store import chunk_codec
from vpshealth.store.schema import sample_chunks, samples

log = logging.getLogger(__name__)

CHUNK_SECONDS = 3600


def hour_of(ts: int) -> int:
    return ts - ts % CHUNK_SECONDS


class Compactor:
    def __init__(self, engine: Engine, series_per_transaction: int = 50) -> None:
        self._engine = engine
        self._batch = series_per_transaction

    def compact(self, now: int) -> int:
        """Fold every row from before the current hour; returns the number of rows folded."""
        boundary = hour_of(now)
        with self._engine.connect() as conn:
            pending = list(
                conn.execute(
                    select(samples.c.series_id)
                    .where(samples.c.ts < boundary)
                    .group_by(samples.c.series_id)
                ).scalars()
            )
        folded = 0
        for start in range(0, len(pending), self._batch):
            with self._engine.begin() as conn:
                for series_id in pending[start : start + self._batch]:
                    folded += self._fold_series(conn, series_id, boundary)
        if folded:
            log.debug("Folded %d samples of %d series into chunks", folded, len(pending))
        return folded

    def _fold_series(self, conn: Connection, series_id: int, boundary: int) -> int:
        rows = conn.execute(
            select(samples.c.ts, samples.c.value)
            .where(samples.c.series_id == series_id, samples.c.ts < boundary)
            .order_by(samples.c.ts)
        ).all()
        hours: dict[int, dict[int, float]] = defaultdict(dict)
        for ts, value in rows:
            hours[hour_of(ts)][ts] = value
        for hour, points in hours.items():
            existing = conn.execute(
                select(sample_chunks.c.codec, sample_chunks.c.data).where(
                    sample_chunks.c.series_id == series_id, sample_chunks.c.start_ts == hour
                )
            ).first()
            merged = points
            if existing is not None:
                try:
                    old_ts, old_values = chunk_codec.decode(existing.codec, existing.data)
                except ValueError:
                    log.warning("Replaced a damaged history chunk of series %d", series_id)
                else:
                    merged = {**dict(zip(old_ts, old_values, strict=True)), **points}
            self._store_chunk(conn, series_id, hour, sorted(merged.items()))
        conn.execute(
            delete(samples).where(samples.c.series_id == series_id, samples.c.ts < boundary)
        )
        return len(rows)

    @staticmethod
    def _store_chunk(
        conn: Connection, series_id: int, hour: int, points: list[tuple[int, float]]
    ) -> None:
        codec, blob = chunk_codec.encode([p[0] for p in points], [p[1] for p in points])
        values = {
            "end_ts": points[-1][0],
            "count": len(points),
            "codec": codec,
            "data": blob,
        }
        conn.execute(
            sqlite_insert(sample_chunks)
            .values(series_id=series_id, start_ts=hour, **values)
            .on_conflict_do_update(index_elements=["series_id", "start_ts"], set_=values)
        )


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

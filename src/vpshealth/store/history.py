"""Reading metric history from raw rows and compressed hourly chunks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from vpshealth.store.compaction import CHUNK_SECONDS, decode_chunks
from vpshealth.store.schema import sample_chunks, samples, series


@dataclass(frozen=True, slots=True)
class Point:
    ts: int
    value: float


class HistoryReader:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
            chunk_query = select(sample_chunks.c.codec, sample_chunks.c.data).where(
                sample_chunks.c.series_id == series_id,
                sample_chunks.c.start_ts > since - CHUNK_SECONDS,
            )
            row_query = select(samples.c.ts, samples.c.value).where(
                samples.c.series_id == series_id, samples.c.ts >= since
            )
            if until is not None:
                chunk_query = chunk_query.where(sample_chunks.c.start_ts <= until)
                row_query = row_query.where(samples.c.ts <= until)
            chunks = [(row.codec, row.data) for row in conn.execute(chunk_query)]
            rows = [(row.ts, row.value) for row in conn.execute(row_query)]
        merged = dict(decode_chunks(chunks, since, until))
        merged.update(rows)
        return [Point(ts, value) for ts, value in sorted(merged.items())]

"""Reading metric history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from vpshealth.store.schema import samples, series


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
        query = (
            select(samples.c.ts, samples.c.value)
            .join(series, series.c.id == samples.c.series_id)
            .where(series.c.host_id == host_id, series.c.metric == metric, samples.c.ts >= since)
            .order_by(samples.c.ts)
        )
        if until is not None:
            query = query.where(samples.c.ts <= until)
        with self._engine.connect() as conn:
            return [Point(row.ts, row.value) for row in conn.execute(query)]

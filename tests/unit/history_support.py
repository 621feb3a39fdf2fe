"""Helpers for the history tests: a real SQLite file with one host and series filled with
known samples."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, insert, select

from vpshealth.domain.hosts import Host
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.schema import samples, series

DAY = 86_400
HOUR = 3600
T0 = 1_800_000_000 - 1_800_000_000 % (30 * DAY)  # a 1-hour block boundary (and a day's)


def add_host(engine: Engine, name: str = "web1") -> int:
    return HostRepository(engine).add(Host(name=name, address="192.0.2.1"))


def add_series(engine: Engine, host_id: int, metric: str) -> int:
    with engine.begin() as conn:
        conn.execute(insert(series).values(host_id=host_id, metric=metric))
        return int(
            conn.execute(
                select(series.c.id).where(series.c.host_id == host_id, series.c.metric == metric)
            ).scalar_one()
        )


def insert_samples(engine: Engine, series_id: int, points: Iterable[tuple[int, float]]) -> None:
    rows = [{"series_id": series_id, "ts": ts, "value": value} for ts, value in points]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(samples), rows)


def sawtooth(start: int, end: int, step: int) -> list[tuple[int, float]]:
    """Values 0.00, 0.01, ... 0.05 repeating every six samples: with ``step`` 10, every
    minute has min 0.0, max 0.05 and average 0.025."""
    return [(ts, ((ts - start) // step % 6) / 100) for ts in range(start, end, step)]

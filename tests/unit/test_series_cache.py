"""The results writer remembers series ids only while they are in use, so a fleet whose
containers (or volumes) come and go does not grow it for good; and a series it forgot may be
removed by the prune and created again without losing a sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.unit.test_store import make_metrics, result, web
from vpshealth.domain.metrics import DiskUsage
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.maintenance import drop_empty_series
from vpshealth.store.results_writer import SERIES_CACHE_SECONDS, ResultsWriter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "cache.sqlite3")
    yield engine
    engine.dispose()


def with_volume(name: str) -> tuple[DiskUsage, ...]:
    return (DiskUsage("/", "ext4", 100, 40, 60), DiskUsage(name, "ext4", 100, 10, 90))


def stored_series(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM series").scalar_one())


def test_series_not_used_for_a_while_are_forgotten(engine: Engine) -> None:
    host_id = HostRepository(engine).add(web("web1"))
    clock = Clock()
    writer = ResultsWriter(engine, monotonic=clock)
    stored = []
    for poll in range(20):  # a volume that comes back under a new name every poll
        clock.now += SERIES_CACHE_SECONDS / 4
        metrics = make_metrics(disks=with_volume(f"/mnt/volume{poll}"))
        writer.write([(host_id, result("web1", 100 + 10 * poll, metrics=metrics))])
        stored.append(stored_series(engine))
    per_volume = stored[1] - stored[0]
    assert per_volume > 0
    assert stored[-1] == stored[0] + 19 * per_volume
    # the cache turns every 4 polls: what the last two turns used, at most 8 volumes' series
    assert stored[0] <= writer.cached_series <= stored[0] + 7 * per_volume


def test_a_forgotten_series_removed_by_the_prune_is_created_again(engine: Engine) -> None:
    host_id = HostRepository(engine).add(web("web1"))
    clock = Clock()
    writer = ResultsWriter(engine, monotonic=clock)
    writer.write([(host_id, result("web1", 100, metrics=make_metrics()))])
    cached = writer.cached_series
    clock.now += 2 * SERIES_CACHE_SECONDS + 1
    writer.write([(host_id, result("web1", 110))])  # no metrics: the cache turns twice
    clock.now += SERIES_CACHE_SECONDS
    writer.write([(host_id, result("web1", 120))])
    assert writer.cached_series == 0 < cached
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM staged_samples")
        conn.exec_driver_sql("DELETE FROM samples")
    assert drop_empty_series(engine) == cached

    writer.write([(host_id, result("web1", 130, metrics=make_metrics()))])
    assert writer.cached_series == cached
    with engine.connect() as conn:
        staged = conn.exec_driver_sql("SELECT count(*) FROM staged_samples").scalar_one()
    assert staged > 0

"""The results writer writes each table with one statement per batch: a batch must store
exactly what the same results written one at a time store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.unit.test_store import make_metrics, result, web
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.results_writer import ResultsWriter

TABLES = ("checks", "host_status", "events", "staged_samples", "series")


def batch_of_results(first: int, second: int) -> list[tuple[int, CheckResult]]:
    return [
        (first, result("web1", 100, metrics=make_metrics(cpu=12.5))),
        (second, result("web2", 100, HostState.WARNING, Problem.CPU_HIGH, "CPU at 90%")),
        (first, result("web1", 110, message="Still good", metrics=make_metrics(cpu=None))),
        (first, result("web1", 120, HostState.CRITICAL, Problem.DISK_HIGH, "disk / at 97%")),
        (second, result("web2", 110, HostState.WARNING, Problem.CPU_HIGH, "CPU at 91%")),
        (first, result("web1", 130)),
    ]


def dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table: sorted(tuple(row) for row in conn.exec_driver_sql(f"SELECT * FROM {table}"))
            for table in TABLES
        }


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    pair = (open_database(tmp_path / "a.sqlite3"), open_database(tmp_path / "b.sqlite3"))
    yield pair
    for engine in pair:
        engine.dispose()


def test_one_batch_stores_what_single_writes_store(engines: tuple[Engine, Engine]) -> None:
    batched, single = engines
    ids = []
    for engine in engines:
        repo = HostRepository(engine)
        ids.append((repo.add(web("web1")), repo.add(web("web2"))))
    assert ids[0] == ids[1]

    changes = ResultsWriter(batched).write(batch_of_results(*ids[0]))
    one_by_one = ResultsWriter(single)
    single_changes = [
        change for item in batch_of_results(*ids[1]) for change in one_by_one.write([item])
    ]

    assert changes == single_changes
    assert [(c.host_name, c.old_state, c.new_state) for c in changes] == [
        ("web1", None, "ok"),
        ("web2", None, "warning"),
        ("web1", "ok", "critical"),
        ("web1", "critical", "ok"),
    ]
    assert dump(batched) == dump(single)
    assert len(dump(batched)["checks"]) == 6
    assert len(dump(batched)["staged_samples"]) == 2 * 11 - 1  # no CPU in the second

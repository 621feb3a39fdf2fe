from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.hosts import Host
from vpshealth.domain.metrics import HostMetrics, LoadAverage, MemoryUsage, SwapUsage
from vpshealth.store.compaction import CHUNK_SECONDS, Compactor, count_rows
from vpshealth.store.database import open_database
from vpshealth.store.history import HistoryReader, Point
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.results_writer import ResultsWriter
from vpshealth.store.schema import sample_chunks

HOUR = CHUNK_SECONDS
T0 = 1_800_000_000 - 1_800_000_000 % HOUR  # an hour boundary


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


def metrics(cpu: float) -> HostMetrics:
    return HostMetrics(
        cpu_percent=cpu,
        cpu_count=2,
        load=LoadAverage(0.5, 0.25, 0.125),
        memory=MemoryUsage(8_000_000_000, 6_000_000_000),
        swap=SwapUsage(0, 0),
        uptime_seconds=100.0,
        disks=(),
        network=(),
    )


def write(engine: Engine, host_id: int, timestamps: range, cpu: float = 1.25) -> None:
    writer = ResultsWriter(engine)
    writer.write(
        [
            (
                host_id,
                CheckResult("web1", ts, HostState.OK, None, "ok", metrics(round(cpu + i / 100, 2))),
            )
            for i, ts in enumerate(timestamps)
        ]
    )


def setup_host(engine: Engine) -> int:
    return HostRepository(engine).add(Host(name="web1", address="192.0.2.1"))


def test_full_hours_are_folded_and_read_back_identically(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + 3 * HOUR, 10))
    reader = HistoryReader(engine)
    before = reader.points(host_id, "cpu.percent", T0)
    assert len(before) == 3 * 360

    folded = Compactor(engine).compact(now=T0 + 2 * HOUR + 5)
    raw, chunked = count_rows(engine)
    series_count = len(reader.metrics_of(host_id))
    assert folded == 2 * 360 * series_count
    assert chunked == folded
    assert raw == 360 * series_count, "the current hour stays as rows"
    assert reader.points(host_id, "cpu.percent", T0) == before
    with engine.connect() as conn:
        chunk_rows = conn.execute(select(func.count()).select_from(sample_chunks)).scalar_one()
    assert chunk_rows == 2 * series_count


def test_range_queries_cut_inside_chunks(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + 2 * HOUR, 60))
    Compactor(engine).compact(now=T0 + 2 * HOUR)
    points = HistoryReader(engine).points(host_id, "load.1", T0 + 1800, T0 + HOUR + 600)
    assert [p.ts for p in points] == list(range(T0 + 1800, T0 + HOUR + 601, 60))
    assert all(p == Point(p.ts, 0.5) for p in points)


def test_a_late_sample_is_merged_into_its_folded_hour(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + HOUR, 20))
    compactor = Compactor(engine)
    compactor.compact(now=T0 + HOUR)
    write(engine, host_id, range(T0 + 10, T0 + 11), cpu=42.0)
    compactor.compact(now=T0 + HOUR)
    points = HistoryReader(engine).points(host_id, "cpu.percent", T0, T0 + 30)
    assert points == [Point(T0, 1.25), Point(T0 + 10, 42.0), Point(T0 + 20, 1.26)]
    assert count_rows(engine)[0] == 0


def test_a_damaged_chunk_is_skipped_by_readers(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + 2 * HOUR, 60))
    Compactor(engine).compact(now=T0 + 2 * HOUR)
    with engine.begin() as conn:
        conn.execute(
            update(sample_chunks).where(sample_chunks.c.start_ts == T0).values(data=b"garbage")
        )
    points = HistoryReader(engine).points(host_id, "load.5", T0)
    assert [p.ts for p in points] == list(range(T0 + HOUR, T0 + 2 * HOUR, 60))


def test_compacting_twice_changes_nothing(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + HOUR, 15))
    compactor = Compactor(engine)
    first = compactor.compact(now=T0 + HOUR)
    assert first > 0
    assert compactor.compact(now=T0 + HOUR) == 0
    assert len(HistoryReader(engine).points(host_id, "cpu.percent", T0)) == 240

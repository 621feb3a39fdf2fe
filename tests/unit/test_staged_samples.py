"""New samples are staged in time order and moved to their series every few minutes; every
reader sees each sample exactly once, before, during and after a move."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from tests.unit.history_support import HOUR, T0, add_host, add_series, insert_samples, sawtooth
from tests.unit.test_store import make_metrics, result
from vpshealth.store import staged_samples
from vpshealth.store.compaction import Compactor, count_rows, read_raw
from vpshealth.store.database import _alembic_config, open_database
from vpshealth.store.history import HistoryReader, Point
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.maintenance import stats
from vpshealth.store.results_writer import ResultsWriter
from vpshealth.store.schema import sample_chunks, samples
from vpshealth.store.staged_samples import move_staged, read_staged


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


def stage(engine: Engine, series_id: int, points: list[tuple[int, float]]) -> None:
    with engine.begin() as conn:
        staged_samples.insert(conn, [(series_id, ts, value) for ts, value in points])


def rows_in(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        moved = conn.execute(select(func.count()).select_from(samples)).scalar_one()
        return int(moved), staged_samples.count_staged(conn)


def test_a_move_takes_every_series_range_and_readers_see_the_same_points(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staged_samples, "SERIES_PER_MOVE", 2)  # five ranges for nine series
    host = add_host(engine)
    ids = [add_series(engine, host, f"m{i}") for i in range(9)]
    for series_id in ids:
        stage(engine, series_id, [(ts, float(series_id)) for ts in range(T0, T0 + 120, 10)])
    reader = HistoryReader(engine)
    before = {i: reader.points(host, f"m{i}", T0 - HOUR) for i in range(9)}
    with engine.connect() as conn:
        raw_before = read_raw(conn, ids, T0, T0 + HOUR)

    assert move_staged(engine) == 9 * 12

    assert rows_in(engine) == (9 * 12, 0)
    assert {i: reader.points(host, f"m{i}", T0 - HOUR) for i in range(9)} == before
    with engine.connect() as conn:
        assert read_raw(conn, ids, T0, T0 + HOUR) == raw_before
    assert before[3] == [Point(ts, float(ids[3])) for ts in range(T0, T0 + 120, 10)]
    assert move_staged(engine) == 0


def test_a_row_already_stored_wins_over_a_staged_one_at_the_same_time(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, [(T0, 1.0)])
    stage(engine, cpu, [(T0, 2.0), (T0 + 10, 3.0)])
    reader = HistoryReader(engine)
    expected = [Point(T0, 1.0), Point(T0 + 10, 3.0)]
    assert reader.points(host, "cpu.percent", T0) == expected
    with engine.connect() as conn:
        assert read_raw(conn, [cpu], T0, T0 + 60) == {cpu: [(T0, 1.0), (T0 + 10, 3.0)]}

    assert move_staged(engine) == 1

    assert HistoryReader(engine).points(host, "cpu.percent", T0) == [
        Point(T0, 1.0),
        Point(T0 + 10, 3.0),
    ]
    assert rows_in(engine) == (2, 0)


def test_the_writer_moves_staged_samples_when_due(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = add_host(engine)
    writer = ResultsWriter(engine)
    writer.write([(host, result("web1", T0, metrics=make_metrics()))])
    moved, staged = rows_in(engine)
    assert moved == 0
    assert staged > 0

    monkeypatch.setattr(staged_samples, "MOVE_SECONDS", 0.0)
    writer.write([(host, result("web1", T0 + 10, metrics=make_metrics()))])

    assert rows_in(engine) == (2 * staged, 0)


def test_the_fold_moves_staged_samples_first(engine: Engine) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    stage(engine, cpu, sawtooth(T0, T0 + HOUR + 60, 10))

    folded = Compactor(engine).compact(now=T0 + HOUR + 60)

    assert folded == 360
    assert rows_in(engine) == (6, 0)  # the current hour's minute stays a row
    assert count_rows(engine) == (6, 360)


def test_stats_count_staged_rows_as_raw_samples(engine: Engine, tmp_path: Path) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    insert_samples(engine, cpu, [(T0, 1.0)])
    stage(engine, cpu, [(T0 - 10, 2.0), (T0 + 10, 3.0)])

    found = stats(engine, tmp_path / "db.sqlite3")

    assert (found.raw_samples, found.oldest_raw) == (3, T0 - 10)
    assert found.rows["staged_samples"] == 2


def test_removing_a_series_drops_its_staged_rows(engine: Engine) -> None:
    host = add_host(engine, "doomed")
    stage(engine, add_series(engine, host, "cpu.percent"), [(T0, 1.0)])

    HostRepository(engine).remove("doomed")

    assert rows_in(engine) == (0, 0)


def test_downgrading_keeps_the_staged_samples(engine: Engine) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    stage(engine, cpu, [(T0, 2.0)])
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    with engine.connect() as conn:
        kept = conn.execute(select(samples.c.series_id, samples.c.ts, samples.c.value)).all()
        chunks = conn.execute(select(func.count()).select_from(sample_chunks)).scalar_one()
    assert ([tuple(row) for row in kept], chunks) == ([(cpu, T0, 2.0)], 0)


_points = st.dictionaries(
    st.tuples(st.integers(1, 3), st.integers(0, 400)),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=_points,
    since=st.integers(-10, 410),
    length=st.one_of(st.none(), st.integers(0, 420)),
    scanned=st.booleans(),
)
def test_staged_reads_find_exactly_the_rows_in_range(
    points: dict[tuple[int, int], float], since: int, length: int | None, scanned: bool
) -> None:
    until = None if length is None else since + length
    with tempfile.TemporaryDirectory() as directory:
        engine = open_database(Path(directory) / "db.sqlite3")
        try:
            host = add_host(engine)
            ids = [add_series(engine, host, name) for name in ("a", "b", "c")]
            with engine.begin() as conn:
                staged_samples.insert(
                    conn, [(ids[n - 1], T0 + ts, v) for (n, ts), v in sorted(points.items())]
                )
            # scanned: the path taken when the staged rows span more than an hour
            limit = -1 if scanned else staged_samples.SECONDS_LOOKED_UP
            original = staged_samples.SECONDS_LOOKED_UP
            staged_samples.SECONDS_LOOKED_UP = limit
            try:
                with engine.connect() as conn:
                    found = read_staged(
                        conn, ids[:2], T0 + since, None if until is None else T0 + until
                    )
            finally:
                staged_samples.SECONDS_LOOKED_UP = original
        finally:
            engine.dispose()
    expected: dict[int, list[tuple[int, float]]] = {}
    for (n, ts), value in sorted(points.items(), key=lambda item: (item[0][0], item[0][1])):
        if n <= 2 and since <= ts and (until is None or ts <= until):
            expected.setdefault(ids[n - 1], []).append((T0 + ts, value))
    assert dict(found) == expected

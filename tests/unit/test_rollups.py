"""Rollups on a real SQLite file: exact min/avg/max, incremental runs, retention, migration."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update

from tests.unit.history_support import (
    DAY,
    HOUR,
    T0,
    add_host,
    add_series,
    insert_samples,
    sawtooth,
)
from vpshealth.store.buckets import from_samples
from vpshealth.store.compaction import Compactor, count_rows
from vpshealth.store.database import SCHEMA_HEAD, _alembic_config, open_database
from vpshealth.store.maintenance import Retention, prune_history, stats
from vpshealth.store.rollups import MINUTE, Rollups, done_until, read_rollups
from vpshealth.store.schema import rollups

LAG = 120
# The sawtooth's average 0.025 as stored: 128 of 255 steps between min 0 and max 0.05.
AVG_STORED = 0.05 * 128 / 255


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


def minutes(engine: Engine, series_id: int, start: int = 0, end: int = 2**40) -> list[tuple]:
    with engine.connect() as conn:
        found = read_rollups(conn, [series_id], MINUTE, start, end).get(series_id)
    return [] if found is None else list(found.rows())


def hours(engine: Engine, series_id: int) -> list[tuple]:
    with engine.connect() as conn:
        found = read_rollups(conn, [series_id], HOUR, 0, 2**40).get(series_id)
    return [] if found is None else list(found.rows())


def test_minute_and_hour_buckets_hold_exact_min_avg_max(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + 2 * HOUR, 10))
    Compactor(engine).compact(now=T0 + 2 * HOUR + LAG)

    report = Rollups(engine, lag=LAG, step=HOUR).run(now=T0 + 2 * HOUR + LAG)

    assert report.minute_buckets == 120
    assert report.hour_buckets == 2
    stored = minutes(engine, cpu)
    assert [m[:3] + m[4:] for m in stored[:2]] == [(T0, 6, 0.0, 0.05), (T0 + 60, 6, 0.0, 0.05)]
    assert len(stored) == 120
    assert {m[3] for m in stored} == {AVG_STORED}
    assert hours(engine, cpu) == [
        (T0, 360, 0.0, AVG_STORED, 0.05),
        (T0 + HOUR, 360, 0.0, AVG_STORED, 0.05),
    ]
    assert done_until(engine, MINUTE) == T0 + 2 * HOUR
    assert done_until(engine, HOUR) == T0 + 2 * HOUR


def test_the_current_hour_and_the_lag_are_left_for_later(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + 2 * HOUR, 10))
    Rollups(engine, lag=LAG, step=HOUR).run(now=T0 + 2 * HOUR + LAG - 1)
    assert done_until(engine, MINUTE) == T0 + HOUR
    assert minutes(engine, cpu)[-1][0] == T0 + HOUR - 60


def test_a_second_run_only_touches_new_data(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    load = add_series(engine, host, "load.1")
    for series_id in (cpu, load):
        insert_samples(engine, series_id, sawtooth(T0, T0 + 3 * HOUR, 10))
    rollup = Rollups(engine, lag=LAG, step=HOUR)
    rollup.run(now=T0 + HOUR + LAG)
    first_hour = minutes(engine, cpu)
    assert rollup.run(now=T0 + HOUR + LAG + 300).minute_buckets == 0

    # Rewrite the stored first hour: a run that recomputed old data would restore it.
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE samples SET value = 99 WHERE ts < ?", (T0 + HOUR,))

    report = rollup.run(now=T0 + 3 * HOUR + LAG)

    assert report.minute_buckets == 2 * 2 * 60
    assert report.hour_buckets == 2 * 2
    assert minutes(engine, cpu, T0, T0 + HOUR) == first_hour
    assert len(minutes(engine, cpu)) == 180
    assert [h[0] for h in hours(engine, load)] == [T0, T0 + HOUR, T0 + 2 * HOUR]


def test_a_repeated_window_gives_the_same_buckets(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + HOUR, 10))
    rollup = Rollups(engine, lag=LAG, step=HOUR)
    rollup.run(now=T0 + HOUR + LAG)
    before = (minutes(engine, cpu), hours(engine, cpu))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE rollup_progress SET done_until = ?", (T0,))
    rollup.run(now=T0 + HOUR + LAG)
    assert (minutes(engine, cpu), hours(engine, cpu)) == before


def test_buckets_go_into_one_block_per_six_hours_and_per_ten_days(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    start = T0 + 6 * HOUR - HOUR
    insert_samples(engine, cpu, sawtooth(start, start + 2 * HOUR, 60))
    Rollups(engine, lag=LAG, step=HOUR).run(now=start + 2 * HOUR + LAG)
    with engine.connect() as conn:
        blocks = conn.execute(
            select(rollups.c.resolution, rollups.c.start_ts, rollups.c.count).order_by(
                rollups.c.resolution, rollups.c.start_ts
            )
        ).all()
    assert [tuple(b) for b in blocks] == [
        (MINUTE, T0, 60),
        (MINUTE, T0 + 6 * HOUR, 60),
        (HOUR, T0, 2),
    ]


def test_by_default_minutes_are_rolled_up_a_whole_six_hour_block_at_a_time(
    engine: Engine,
) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + 7 * HOUR, 10))
    rollup = Rollups(engine, lag=LAG)
    for now in (T0 + HOUR + LAG, T0 + 6 * HOUR + LAG - 1):
        report = rollup.run(now)
        assert (report.minute_buckets, report.hour_buckets) == (0, 0)

    report = rollup.run(now=T0 + 7 * HOUR + LAG)

    assert (report.minute_buckets, report.hour_buckets) == (6 * 60, 6)
    assert done_until(engine, MINUTE) == done_until(engine, HOUR) == T0 + 6 * HOUR
    assert [m[0] for m in minutes(engine, cpu)] == list(range(T0, T0 + 6 * HOUR, 60))
    with engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT max(rowid) FROM rollups").scalar_one()
    assert versions == 2  # one minute block and one hour block, each written once


def test_a_rollup_step_must_divide_the_six_hour_block(engine: Engine) -> None:
    for step in (0, 30 * 60, 4 * HOUR, 12 * HOUR):
        with pytest.raises(ValueError, match="whole hours that divide 6 hours"):
            Rollups(engine, step=step)


def test_a_damaged_block_is_replaced_and_skipped_by_readers(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + 2 * HOUR, 10))
    rollup = Rollups(engine, lag=LAG, step=HOUR)
    rollup.run(now=T0 + HOUR + LAG)
    with engine.begin() as conn:
        conn.execute(update(rollups).values(data=b"garbage"))
    assert minutes(engine, cpu) == []
    rollup.run(now=T0 + 2 * HOUR + LAG)
    assert [m[0] for m in minutes(engine, cpu)] == list(range(T0 + HOUR, T0 + 2 * HOUR, 60))


def test_nothing_stored_yet_starts_the_watermark_at_now(engine: Engine) -> None:
    assert Rollups(engine, lag=LAG, step=HOUR).run(now=T0 + 5 * HOUR).minute_buckets == 0
    assert done_until(engine, MINUTE) == T0 + 5 * HOUR - HOUR
    assert done_until(engine, HOUR) == T0 + 4 * HOUR


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * HOUR - 1), st.integers(0, 10_000).map(lambda n: n / 100)),
        min_size=1,
        max_size=200,
        unique_by=lambda p: p[0],
    ),
    st.integers(0, 3),
)
def test_rollups_of_stored_chunks_equal_rollups_of_the_raw_rows(
    offsets: list[tuple[int, float]], folded_hours: int
) -> None:
    points = sorted((T0 + offset, value) for offset, value in offsets)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(Path(folder) / "db.sqlite3")
        try:
            host = add_host(engine)
            cpu = add_series(engine, host, "cpu.percent")
            insert_samples(engine, cpu, points)
            Compactor(engine).compact(now=T0 + folded_hours * HOUR)
            Rollups(engine, lag=LAG, step=HOUR).run(now=T0 + 3 * HOUR + LAG)
            stored = minutes(engine, cpu)
            stored_hours = hours(engine, cpu)
        finally:
            engine.dispose()
    expected = from_samples(points, MINUTE)
    assert [r[:3] + r[4:] for r in stored] == [r[:3] + r[4:] for r in expected.rows()]
    for got, want in zip(stored, expected.rows(), strict=True):
        assert abs(got[3] - want[3]) <= (want[4] - want[2]) / 510 + 1e-9
    direct = from_samples(points, HOUR)
    assert [(r[0], r[1], r[2], r[4]) for r in stored_hours] == [
        (r[0], r[1], r[2], r[4]) for r in direct.rows()
    ]


# ---------------------------------------------------------------- retention


def test_retention_drops_whole_blocks_past_each_cutoff(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + 3 * DAY, 600))
    rollup = Rollups(engine, lag=LAG, step=HOUR)
    now = T0 + 3 * DAY + LAG
    rollup.run(now=now)
    Compactor(engine).compact(now=now)
    retention = Retention(raw=DAY + HOUR, minute=2 * DAY - HOUR, hour=3 * DAY)

    prune_history(engine, now, retention)

    assert [m[0] for m in minutes(engine, cpu)][:1] == [T0 + DAY]  # the day before is gone
    assert len(hours(engine, cpu)) == 72  # the 30-day block ends after now
    with engine.connect() as conn:
        oldest_raw = conn.exec_driver_sql("SELECT min(start_ts) FROM sample_chunks").scalar()
    cutoff = now - retention.raw
    assert oldest_raw == cutoff - cutoff % HOUR  # the hour the cutoff falls in is kept
    s = stats(engine, Path(str(engine.url.database)))
    assert (s.oldest_minute, s.oldest_hour) == (T0 + DAY, T0)


def test_raw_samples_are_kept_until_their_minutes_are_rolled_up(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + 4 * HOUR, 60))
    Rollups(engine, lag=LAG, step=HOUR).run(now=T0 + HOUR + LAG)  # minutes done until T0 + 1 h
    now = T0 + 4 * HOUR
    prune_history(engine, now, Retention(raw=HOUR, minute=DAY, hour=DAY))
    raw, chunked = count_rows(engine)
    assert raw + chunked == 3 * 60
    assert done_until(engine, MINUTE) == T0 + HOUR


def test_pruning_twice_deletes_nothing_more(engine: Engine) -> None:
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + 2 * DAY, 600))
    now = T0 + 2 * DAY + LAG
    Rollups(engine, lag=LAG, step=HOUR).run(now=now)
    retention = Retention(raw=HOUR, minute=DAY, hour=DAY)
    assert prune_history(engine, now, retention) > 0
    assert prune_history(engine, now, retention) == 0


# ---------------------------------------------------------------- migration


def test_a_database_at_0003_is_upgraded_and_keeps_its_history(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    engine = open_database(path)
    host = add_host(engine)
    cpu = add_series(engine, host, "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + HOUR, 10))
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    with engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    engine.dispose()
    assert "rollups" not in tables

    engine = open_database(path, backup_dir=tmp_path / "backups")
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            count = conn.execute(select(func.count()).select_from(rollups)).scalar_one()
        assert (version, count) == (SCHEMA_HEAD, 0)
        Rollups(engine, lag=LAG, step=HOUR).run(now=T0 + HOUR + LAG)
        assert len(minutes(engine, cpu)) == 60
    finally:
        engine.dispose()
    assert len(list((tmp_path / "backups").iterdir())) == 1


def test_runs_cut_into_slices_end_with_the_same_buckets(tmp_path: Path) -> None:
    stores = []
    for name in ("whole", "sliced"):
        engine = open_database(tmp_path / f"{name}.sqlite3")
        host = add_host(engine)
        for metric in ("a", "b", "c", "d", "e"):
            insert_samples(
                engine, add_series(engine, host, metric), sawtooth(T0, T0 + 3 * HOUR, 10)
            )
        stores.append(engine)
    whole, sliced = stores
    try:
        now = T0 + 3 * HOUR + LAG
        Compactor(whole, series_per_transaction=2).compact(now)
        Rollups(whole, series_per_transaction=2, lag=LAG, step=HOUR).run(now)

        compactor = Compactor(sliced, series_per_transaction=2)
        compactor.compact(now, budget_seconds=0)
        calls = 1
        while not compactor.done:
            compactor.compact(now, budget_seconds=0)
            calls += 1
        assert calls == 3  # 5 series, 2 per transaction, stopping after every transaction
        rollup = Rollups(sliced, series_per_transaction=2, lag=LAG, step=HOUR)
        reports = [rollup.run(now, budget_seconds=0)]
        while not reports[-1].done:
            reports.append(rollup.run(now, budget_seconds=0))
        assert len(reports) > 3
        assert sum(r.minute_buckets for r in reports) == 5 * 3 * 60

        assert count_rows(sliced) == count_rows(whole) == (0, 5 * 3 * 360)
        for series_id in range(1, 6):
            assert minutes(sliced, series_id) == minutes(whole, series_id)
            assert hours(sliced, series_id) == hours(whole, series_id)
    finally:
        for engine in stores:
            engine.dispose()


def test_a_series_removed_between_slices_makes_none_of_the_others_skipped(
    engine: Engine,
) -> None:
    host = add_host(engine)
    ids = [add_series(engine, host, name) for name in "abcde"]
    for series_id in ids:
        insert_samples(engine, series_id, sawtooth(T0, T0 + HOUR, 10))
    now = T0 + HOUR + LAG
    compactor = Compactor(engine, series_per_transaction=2)
    rollup = Rollups(engine, series_per_transaction=2, lag=LAG, step=HOUR)
    compactor.compact(now, budget_seconds=0)
    assert rollup.run(now, budget_seconds=0).minute_buckets == 2 * 60
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM series WHERE id = ?", (ids[0],))
    while not compactor.done:
        compactor.compact(now, budget_seconds=0)
    while not rollup.run(now, budget_seconds=0).done:
        pass
    assert count_rows(engine) == (0, 4 * 360)
    for series_id in ids[1:]:
        assert len(minutes(engine, series_id)) == 60

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.unit.test_compaction import T0, setup_host, write
from vpshealth.cli.main import main
from vpshealth.store.compaction import CHUNK_SECONDS, Compactor, count_rows
from vpshealth.store.database import open_database
from vpshealth.store.history import HistoryReader
from vpshealth.store.maintenance import prune, stats, vacuum


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite3"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    engine = open_database(db_path)
    yield engine
    engine.dispose()


def test_new_files_use_incremental_auto_vacuum(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() == 2


def test_prune_drops_history_past_retention_and_keeps_the_rest(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + 4 * CHUNK_SECONDS, 30))
    Compactor(engine).compact(now=T0 + 3 * CHUNK_SECONDS)
    cutoff = T0 + 2 * CHUNK_SECONDS
    deleted = prune(engine, raw_before=cutoff, checks_before=cutoff)
    points = HistoryReader(engine).points(host_id, "cpu.percent", 0)
    assert points[0].ts == cutoff
    assert len(points) == 2 * CHUNK_SECONDS // 30
    assert deleted > 0
    assert prune(engine, raw_before=cutoff, checks_before=cutoff) == 0
    with engine.connect() as conn:
        oldest_check = conn.exec_driver_sql("SELECT min(checked_at) FROM checks").scalar_one()
    assert oldest_check == cutoff


def test_stats_count_rows_and_samples(engine: Engine, db_path: Path) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + 2 * CHUNK_SECONDS, 60))
    Compactor(engine).compact(now=T0 + CHUNK_SECONDS)
    s = stats(engine, db_path)
    raw, chunked = count_rows(engine)
    assert (s.raw_samples, s.chunked_samples) == (raw, chunked)
    assert s.rows["hosts"] == 2
    assert s.oldest_chunk == T0
    assert s.oldest_raw == T0 + CHUNK_SECONDS
    assert s.file_bytes == db_path.stat().st_size


def test_vacuum_keeps_every_sample(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + CHUNK_SECONDS, 10))
    before = HistoryReader(engine).points(host_id, "load.1", 0)
    vacuum(engine)
    assert HistoryReader(engine).points(host_id, "load.1", 0) == before


def test_cli_backup_is_a_consistent_private_copy_and_never_overwrites(
    cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["service", "--once"]) in (0, 1)
    target = tmp_path / "copy.sqlite3"
    assert main(["db", "backup", str(target)]) == 0
    assert target.stat().st_mode & 0o777 == 0o600
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT name FROM hosts").fetchall() == [("localhost",)]
        assert conn.execute("SELECT count(*) FROM checks").fetchone() == (1,)
    finally:
        conn.close()
    size = target.stat().st_size
    capsys.readouterr()
    assert main(["db", "backup", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.stat().st_size == size
    assert not list(tmp_path.glob(".*.partial"))


def series_ids(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return {row[0] for row in conn.exec_driver_sql("SELECT id FROM series")}


def test_prune_removes_series_whose_history_is_all_gone(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + 2 * CHUNK_SECONDS, 60))
    kept = series_ids(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO series (host_id, metric) VALUES (?, 'container.cpu_percent:gone')",
            (host_id,),
        )
    assert len(series_ids(engine)) == len(kept) + 1

    assert prune(engine, raw_before=T0, checks_before=T0) == 1
    assert series_ids(engine) == kept
    assert prune(engine, raw_before=T0 + 4 * CHUNK_SECONDS, checks_before=T0) > 0
    assert series_ids(engine) == set()


def test_series_with_only_rolled_up_history_are_kept(engine: Engine) -> None:
    host_id = setup_host(engine)
    write(engine, host_id, range(T0, T0 + 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO rollups (series_id, resolution, start_ts, end_ts, count, data) "
            "SELECT id, 3600, ?, ?, 1, x'00' FROM series",
            (T0, T0 + 3600),
        )
        conn.exec_driver_sql("DELETE FROM samples")
    before = series_ids(engine)
    prune(engine, raw_before=T0 + CHUNK_SECONDS, checks_before=T0)
    assert series_ids(engine) == before != set()

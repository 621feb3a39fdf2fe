"""``HistoryReader.series``: the resolution picked for a range, the point cap, and the tail that
is not rolled up yet; and the CLI commands that show them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.unit.history_support import DAY, HOUR, T0, add_host, add_series, insert_samples, sawtooth
from vpshealth.cli.main import main
from vpshealth.store.compaction import Compactor
from vpshealth.store.database import open_database
from vpshealth.store.history import RAW, HistoryReader, SeriesData
from vpshealth.store.maintenance import Retention
from vpshealth.store.rollups import MINUTE, Rollups, done_until

LAG = 120
NOW = T0 + 40 * DAY


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


def reader(engine: Engine) -> HistoryReader:
    return HistoryReader(engine, Retention(raw=2 * DAY, minute=30 * DAY, hour=730 * DAY))


@pytest.mark.parametrize(
    ("span", "start_age", "expected"),
    [
        (HOUR, HOUR, RAW),
        (2000 * 10, 2000 * 10, RAW),
        (2000 * 10 + 1, 2000 * 10 + 1, MINUTE),
        (HOUR, 3 * DAY, MINUTE),  # raw is gone that far back
        (2000 * 60, 2000 * 60, MINUTE),
        (2000 * 60 + 1, 2000 * 60 + 1, HOUR),
        (30 * DAY, 30 * DAY, HOUR),
        (HOUR, 31 * DAY, HOUR),  # 1-minute buckets are gone that far back
    ],
)
def test_the_resolution_follows_the_range(
    engine: Engine, span: int, start_age: int, expected: int
) -> None:
    start = NOW - start_age
    assert reader(engine).resolution_for(start, start + span, 2000, NOW) == expected


def test_a_short_range_returns_every_raw_sample(engine: Engine) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    insert_samples(engine, cpu, sawtooth(NOW - HOUR, NOW + 1, 10))
    data = reader(engine).series(add_host_id(engine), "cpu.percent", NOW - HOUR, NOW, now=NOW)
    assert (data.resolution, data.bucket_seconds, len(data)) == (RAW, 0, 361)
    assert data.timestamps[0] == NOW - HOUR
    assert data.minimum == data.average == data.maximum == data.values
    assert data.values[:7] == [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.0]


def test_dense_raw_samples_are_bucketed_under_the_cap(engine: Engine) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    insert_samples(engine, cpu, [(ts, float(ts % 7)) for ts in range(NOW - 900, NOW + 1)])
    data = reader(engine).series(add_host_id(engine), "cpu.percent", NOW - 900, NOW, 100, now=NOW)
    assert data.resolution == RAW  # 900 s <= 100 points of 10 s
    assert len(data) <= 100
    assert data.bucket_seconds == 10  # ceil(900 / 99)
    assert all(ts % 10 == 0 for ts in data.timestamps)
    first = [float(ts % 7) for ts in range(data.timestamps[1], data.timestamps[1] + 10)]
    assert (data.minimum[1], data.maximum[1]) == (min(first), max(first))
    assert data.average[1] == pytest.approx(sum(first) / 10)


@pytest.mark.parametrize("step", [HOUR, 6 * HOUR])
def test_a_day_comes_from_minute_buckets_and_the_unrolled_tail_from_raw(
    engine: Engine, step: int
) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    now = T0 + DAY + 5 * HOUR + 30 * 60
    insert_samples(engine, cpu, sawtooth(T0, now + 1, 10))
    Compactor(engine).compact(now=now)
    Rollups(engine, lag=LAG, step=step).run(now=now)  # the last 30 min or 5.5 hours are raw
    assert done_until(engine, MINUTE) == now - 30 * 60 - (5 * HOUR if step > HOUR else 0)

    data = reader(engine).series(add_host_id(engine), "cpu.percent", now - DAY, now, now=now)

    assert (data.resolution, data.bucket_seconds) == (MINUTE, 60)
    assert data.timestamps == list(range(now - DAY, now + 1, 60))
    assert set(data.minimum) == {0.0}
    assert set(data.maximum[:-1]) == {0.05}
    assert data.average[0] == 0.05 * 128 / 255  # stored: 128 of 255 steps from min to max
    assert data.average[-2] == pytest.approx(0.025)  # computed from raw just now
    assert data.average[-1] == 0.0  # the one sample of the last minute


def test_sparse_raw_samples_are_shown_as_they_are_when_they_fit(engine: Engine) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    insert_samples(engine, cpu, sawtooth(NOW - DAY, NOW, 300))  # a check every 5 minutes
    Compactor(engine).compact(now=NOW)
    data = reader(engine).series(add_host_id(engine), "cpu.percent", NOW - DAY, NOW, now=NOW)
    assert (data.resolution, data.bucket_seconds, len(data)) == (RAW, 0, 288)
    capped = reader(engine).series(add_host_id(engine), "cpu.percent", NOW - DAY, NOW, 200, now=NOW)
    assert capped.resolution == HOUR  # 288 > 200, and a day is more than 200 minutes
    assert len(capped) == 24  # from the raw samples: nothing is rolled up yet


def test_thirty_days_come_from_hour_buckets(engine: Engine) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    now = T0 + 30 * DAY
    insert_samples(engine, cpu, sawtooth(T0, now, 60))
    Rollups(engine, lag=LAG, step=HOUR).run(now=now + LAG)
    data = reader(engine).series(add_host_id(engine), "cpu.percent", T0, now - 1, now=now)
    assert (data.resolution, data.bucket_seconds) == (HOUR, HOUR)
    assert len(data) == 720
    assert data.timestamps[0] == T0
    assert (data.minimum[0], data.maximum[0]) == (0.0, 0.05)


def test_long_ranges_are_capped_by_widening_hour_buckets(engine: Engine) -> None:
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    now = T0 + 30 * DAY
    insert_samples(engine, cpu, [(ts, float(ts // HOUR % 24)) for ts in range(T0, now, 600)])
    Rollups(engine, lag=LAG, step=HOUR).run(now=now + LAG)
    data = reader(engine).series(add_host_id(engine), "cpu.percent", T0, now - 1, 50, now=now)
    assert len(data) <= 50
    assert data.bucket_seconds == 15 * HOUR  # ceil(720 h / 49), in whole hours
    assert all(ts % (15 * HOUR) == 0 for ts in data.timestamps)
    assert (min(data.minimum), max(data.maximum)) == (0.0, 23.0)


def test_unknown_metrics_give_empty_data_and_a_tiny_cap_is_refused(engine: Engine) -> None:
    host = add_host(engine)
    data = reader(engine).series(host, "nope", NOW - HOUR, NOW, now=NOW)
    assert isinstance(data, SeriesData)
    assert len(data) == 0
    with pytest.raises(ValueError, match="at least 2"):
        reader(engine).series(host, "nope", NOW - HOUR, NOW, 1, now=NOW)


def add_host_id(engine: Engine) -> int:
    """The id of the one host the test added."""
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT id FROM hosts WHERE name = 'web1'").scalar_one())


# ---------------------------------------------------------------- CLI


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_history_and_stats_show_the_rollups(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["service", "--once"]) in (0, 1)
    path = cli_home / "data" / "vpshealth.sqlite3"
    engine = open_database(path)
    try:
        with engine.connect() as conn:
            host = int(conn.exec_driver_sql("SELECT id FROM hosts").scalar_one())  # localhost
        disk = add_series(engine, host, "disk.percent:/srv")
        now = int(time.time())
        start = now - now % HOUR - 3 * DAY
        insert_samples(engine, disk, sawtooth(start, now - 2 * HOUR, 10))
        Rollups(engine, lag=LAG, step=HOUR).run(now=now)
    finally:
        engine.dispose()
    capsys.readouterr()

    code, out, err = run_cli(capsys, "history", "localhost", "disk:/srv", "--since", "3d", "--json")
    assert (code, err) == (0, "")
    data: dict[str, Any] = json.loads(out)
    assert (data["resolution"], data["step_seconds"]) == ("1h", HOUR)
    assert {"min", "avg", "max"} <= set(data["points"][0])
    assert data["points"][0]["max"] == 0.05

    code, out, _ = run_cli(capsys, "history", "localhost", "disk:/srv", "--since", "1d")
    assert code == 0
    assert "minimum, average and maximum of each minute" in out

    code, out, _ = run_cli(capsys, "db", "stats", "--json")
    stats = json.loads(out)
    assert stats["oldest"]["1m"] == stats["oldest"]["1h"] is not None
    assert stats["rows"]["rollups"] > 0
    code, out, _ = run_cli(capsys, "db", "stats")
    assert "1-minute" in out
    assert "1-hour" in out

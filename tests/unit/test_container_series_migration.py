"""Migration 0010: name-keyed container series move to the app's identity, and the series of
several deploys of one app are merged without losing a value or doubling a time."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine

from tests.coolify_app import FIRST_DEPLOY, IDENTITY, SECOND_DEPLOY, UUID, app_labels
from tests.unit.test_migrations import _database_at
from vpshealth.store import chunk_codec
from vpshealth.store.database import open_database
from vpshealth.store.schema import metadata

NOW_NAME = f"{UUID}-215031123456"
OLD_NAME = SECOND_DEPLOY
OLDER_NAME = FIRST_DEPLOY
MEMORY = "container.memory_bytes"
LABELS = app_labels(NOW_NAME)
HOUR = 3600
T = 1_800_000_000 - 1_800_000_000 % (10 * 86_400)


def _host(conn: Connection) -> int:
    conn.exec_driver_sql(
        "INSERT INTO hosts (name, kind, address, port, user, auth, interval_seconds, enabled, "
        "tags, created_at, updated_at) VALUES ('web1', 'ssh', '192.0.2.1', 22, 'root', 'key', "
        "30, 1, '[]', 0, 0)"
    )
    return int(conn.exec_driver_sql("SELECT id FROM hosts WHERE name = 'web1'").scalar_one())


def _container(conn: Connection, host: int, name: str, labels: dict[str, str]) -> None:
    conn.exec_driver_sql(
        "INSERT INTO containers (host_id, container_id, name, image, created, state, health, "
        "failing_streak, restart_count, oom_killed, group_kind, infrastructure, ports, labels, "
        "seen_at) VALUES (?, ?, ?, 'img', 0, 'running', 'none', 0, 0, 0, 'coolify', 0, '[]', ?, 0)",
        (host, f"id-{name}", name, json.dumps(labels)),
    )


def _series(conn: Connection, host: int, metric: str) -> int:
    conn.exec_driver_sql("INSERT INTO series (host_id, metric) VALUES (?, ?)", (host, metric))
    return int(conn.exec_driver_sql("SELECT max(id) FROM series").scalar_one())


def _samples(conn: Connection, table: str, series_id: int, points: dict[int, float]) -> None:
    for ts, value in points.items():
        conn.exec_driver_sql(
            f"INSERT INTO {table} (series_id, ts, value) VALUES (?, ?, ?)",
            (series_id, ts, value),
        )


def _chunk(conn: Connection, series_id: int, start: int, points: dict[int, float]) -> None:
    times = sorted(points)
    codec, blob = chunk_codec.encode(times, [points[t] for t in times])
    conn.exec_driver_sql(
        "INSERT INTO sample_chunks VALUES (?, ?, ?, ?, ?, ?)",
        (series_id, start, times[-1], len(times), codec, blob),
    )


def _rollup(conn: Connection, series_id: int, start: int, buckets: list[tuple[int, ...]]) -> None:
    times, counts, lows, means, highs = (list(c) for c in zip(*buckets, strict=True))
    blob = chunk_codec.encode_rollup(times, counts, lows, means, highs)
    conn.exec_driver_sql(
        "INSERT INTO rollups VALUES (?, 60, ?, ?, ?, ?)",
        (series_id, start, times[-1], len(times), blob),
    )


def _old_database(path: Path) -> Engine:
    engine = _database_at(path, "0008")
    with engine.begin() as conn:
        host = _host(conn)
        _container(conn, host, NOW_NAME, LABELS)
        _container(conn, host, "redis", {})
        older = _series(conn, host, f"{MEMORY}:{OLDER_NAME}")
        old = _series(conn, host, f"{MEMORY}:{OLD_NAME}")
        now = _series(conn, host, f"{MEMORY}:{NOW_NAME}")
        _series(conn, host, f"container.cpu_percent:{NOW_NAME}")
        _series(conn, host, f"{MEMORY}:redis")
        _series(conn, host, f"{MEMORY}:someone-else-1")
        _series(conn, host, "cpu.percent")
        # the hour of the first deploy, compacted for one container and not yet for the other
        _chunk(conn, older, T, {T + 10: 1.0, T + 20: 2.0})
        _chunk(conn, old, T, {T + 20: 20.0, T + 30: 3.0})
        _samples(conn, "samples", now, {T + 30: 30.0, T + 40: 4.0})
        _chunk(conn, old, T + HOUR, {T + HOUR + 10: 5.0})
        # the rolling update: both containers polled at T + 2 h + 10
        _samples(conn, "samples", old, {T + 2 * HOUR: 6.0, T + 2 * HOUR + 10: 7.0})
        _samples(conn, "samples", now, {T + 2 * HOUR + 10: 70.0, T + 2 * HOUR + 20: 8.0})
        _samples(conn, "staged_samples", old, {T + 3 * HOUR: 9.0})
        _samples(conn, "staged_samples", now, {T + 3 * HOUR: 90.0, T + 3 * HOUR + 10: 10.0})
        _rollup(conn, old, T, [(T, 2, 1.0, 1.5, 2.0), (T + 60, 1, 3.0, 3.0, 3.0)])
        _rollup(conn, now, T, [(T + 60, 3, 1.0, 2.0, 4.0), (T + 120, 1, 5.0, 5.0, 5.0)])
        _rollup(conn, now, T + 6 * HOUR, [(T + 6 * HOUR, 1, 8.0, 8.0, 8.0)])
    engine.dispose()
    return open_database(path)


def _points(conn: Connection, series_id: int) -> list[tuple[int, float]]:
    raw = [
        (ts, value)
        for table in ("samples", "staged_samples")
        for ts, value in conn.exec_driver_sql(
            f"SELECT ts, value FROM {table} WHERE series_id = ?",
            (series_id,),
        )
    ]
    for codec, data in conn.exec_driver_sql(
        "SELECT codec, data FROM sample_chunks WHERE series_id = ?", (series_id,)
    ):
        raw.extend(zip(*chunk_codec.decode(codec, data), strict=True))
    return sorted(raw)


def test_the_deploys_of_an_app_become_one_series_keyed_by_its_identity(tmp_path: Path) -> None:
    engine = _old_database(tmp_path / "db.sqlite3")
    try:
        with engine.connect() as conn:
            metrics = dict(conn.exec_driver_sql("SELECT metric, id FROM series").all())
            assert sorted(metrics) == [
                f"container.cpu_percent:{IDENTITY}",
                f"{MEMORY}:{IDENTITY}",
                f"{MEMORY}:redis",
                f"{MEMORY}:someone-else-1",
                "cpu.percent",
            ]
            merged = metrics[f"{MEMORY}:{IDENTITY}"]
            assert _points(conn, merged) == [
                (T + 10, 1.0),
                (T + 20, 20.0),
                (T + 30, 30.0),
                (T + 40, 4.0),
                (T + HOUR + 10, 5.0),
                (T + 2 * HOUR, 6.0),
                (T + 2 * HOUR + 10, 70.0),
                (T + 2 * HOUR + 20, 8.0),
                (T + 3 * HOUR, 90.0),
                (T + 3 * HOUR + 10, 10.0),
            ]
            leftovers = [
                conn.exec_driver_sql(
                    f"SELECT count(*) FROM {table} WHERE series_id NOT IN (SELECT id FROM series)"
                ).scalar_one()
                for table in ("samples", "staged_samples", "sample_chunks", "rollups")
            ]
            assert leftovers == [0, 0, 0, 0]
            rollups = {
                start: chunk_codec.decode_rollup(data)
                for start, data in conn.exec_driver_sql(
                    "SELECT start_ts, data FROM rollups WHERE series_id = ?", (merged,)
                )
            }
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()
    times, counts, lows, means, highs = rollups[T]
    assert times == [T, T + 60, T + 120]
    assert counts == [2, 4, 1]
    assert lows == [1.0, 1.0, 5.0]
    assert highs == [2.0, 4.0, 5.0]
    assert abs(means[1] - (3.0 + 3 * 2.0) / 4) < 0.05  # the codec keeps the mean to 1/255
    assert rollups[T + 6 * HOUR][0] == [T + 6 * HOUR]


def test_a_preview_and_a_stack_member_keep_identities_of_their_own(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    engine = _database_at(path, "0008")
    preview = app_labels(f"{UUID}-pr-3", pull_request=3)
    with engine.begin() as conn:
        host = _host(conn)
        _container(conn, host, NOW_NAME, LABELS)
        _container(conn, host, f"{UUID}-pr-3", preview)
        _series(conn, host, f"{MEMORY}:{UUID}-pr-3")
        _series(conn, host, f"{MEMORY}:{OLD_NAME}")
    engine.dispose()
    engine = open_database(path)
    try:
        with engine.connect() as conn:
            metrics = sorted(conn.exec_driver_sql("SELECT metric FROM series").scalars())
    finally:
        engine.dispose()
    assert metrics == [f"{MEMORY}:{IDENTITY}", f"{MEMORY}:{IDENTITY}/pr-3"]

"""The SQLite store against a real file: opening/migrating, hosts, results and history."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text

from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import AuthMethod, Host, HostKind
from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
    SystemInfo,
)
from vpshealth.domain.series import flatten
from vpshealth.errors import ConfigurationError, InputError
from vpshealth.store import database
from vpshealth.store.database import open_database
from vpshealth.store.history import HistoryReader, Point
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.results_writer import ResultsWriter, StateChange
from vpshealth.store.schema import checks, events, host_status, hosts, series, staged_samples

HEAD = ScriptDirectory.from_config(database._alembic_config()).get_current_head()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "vpshealth.sqlite3"


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def engine(db_path: Path, backup_dir: Path) -> Iterator[Engine]:
    eng = open_database(db_path, backup_dir=backup_dir)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def repo(engine: Engine) -> HostRepository:
    return HostRepository(engine)


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def _host_rows(path: Path) -> list[tuple[str, str]]:
    conn = _raw(path)
    try:
        return conn.execute("SELECT name, kind FROM hosts ORDER BY id").fetchall()
    finally:
        conn.close()


def _count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        if where:
            query = query.where(*where)  # type: ignore[arg-type]
        return int(conn.execute(query).scalar_one())


def make_metrics(
    cpu: float | None = 10.0, disks: tuple[DiskUsage, ...] | None = None
) -> HostMetrics:
    return HostMetrics(
        cpu_percent=cpu,
        cpu_count=2,
        load=LoadAverage(0.1, 0.2, 0.3),
        memory=MemoryUsage(total_bytes=1000, available_bytes=600),
        swap=SwapUsage(total_bytes=100, free_bytes=100),
        uptime_seconds=42.0,
        disks=disks if disks is not None else (DiskUsage("/", "ext4", 100, 40, 60),),
        network=(NetworkCounters("eth0", 1000, 2000),),
    )


def result(
    name: str,
    at: int,
    state: HostState = HostState.OK,
    problem: Problem | None = None,
    message: str = "All good",
    metrics: HostMetrics | None = None,
    info: SystemInfo | None = None,
) -> CheckResult:
    return CheckResult(
        host_name=name,
        checked_at=at,
        state=state,
        problem=problem,
        message=message,
        metrics=metrics,
        system_info=info,
        duration_ms=12,
    )


def web(name: str = "web1", **kwargs: object) -> Host:
    return Host(name=name, address="203.0.113.10", **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- open_database


def test_new_file_is_private(engine: Engine, db_path: Path) -> None:
    assert db_path.exists()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_existing_file_is_made_private(db_path: Path, backup_dir: Path) -> None:
    db_path.touch(mode=0o644)
    db_path.chmod(0o644)
    eng = open_database(db_path, backup_dir=backup_dir)
    eng.dispose()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_pragmas(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 10_000
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
        assert conn.execute(text("PRAGMA cache_size")).scalar_one() == -database.PAGE_CACHE_KIB


def test_the_log_shrinks_back_after_a_large_transaction(engine: Engine, db_path: Path) -> None:
    wal = db_path.with_name(db_path.name + "-wal")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bulk (b BLOB)"))
        for _ in range(40):
            conn.execute(text("INSERT INTO bulk VALUES (zeroblob(1048576))"))
    assert wal.stat().st_size > 2 * database.WAL_SIZE_LIMIT
    with engine.begin() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO bulk VALUES (x'00')"))
    assert wal.stat().st_size <= database.WAL_SIZE_LIMIT


def test_schema_is_at_head(engine: Engine) -> None:
    assert HEAD is not None
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
        names = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
        )
    assert {
        "hosts",
        "host_status",
        "checks",
        "events",
        "series",
        "samples",
        "sample_chunks",
    } <= names


def test_migration_inserts_localhost_once(db_path: Path, backup_dir: Path) -> None:
    for _ in range(3):
        eng = open_database(db_path, backup_dir=backup_dir)
        eng.dispose()
    assert _host_rows(db_path) == [("localhost", "local")]
    # Opening an up-to-date database takes no backup.
    assert not backup_dir.exists() or list(backup_dir.iterdir()) == []


def test_localhost_record(repo: HostRepository) -> None:
    record = repo.get("localhost")
    assert record.host.kind is HostKind.LOCAL
    assert record.host.auth is AuthMethod.NONE
    assert record.host.address == "127.0.0.1"
    assert record.host.interval_seconds == 15
    assert record.host.enabled is True
    assert record.status is None
    assert record.system_info is None


def _downgrade_to_base(db_path: Path) -> None:
    """Make the file look like one written before the first migration: the schema is taken
    down to base with Alembic itself, and a pre-existing user table with a row is left
    behind so the backup can be told apart from the upgraded file."""
    eng = open_database(db_path)
    try:
        config = database._alembic_config()
        with eng.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
            conn.execute(text("CREATE TABLE legacy_marker (value INTEGER)"))
            conn.execute(text("INSERT INTO legacy_marker VALUES (42)"))
    finally:
        eng.dispose()
    conn = _raw(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (0,)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name='hosts'").fetchone() is None
    finally:
        conn.close()


def test_upgrade_of_existing_database_makes_backup_first(db_path: Path, backup_dir: Path) -> None:
    _downgrade_to_base(db_path)
    assert not backup_dir.exists()

    eng = open_database(db_path, backup_dir=backup_dir)
    eng.dispose()

    backups = list(backup_dir.iterdir())
    assert len(backups) == 1
    backup = backups[0]
    assert backup.name.startswith(f"{db_path.stem}.before-{HEAD}.")
    assert backup.suffix == db_path.suffix
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    # The backup is the file as it was: the marker, and no hosts table yet.
    conn = _raw(backup)
    try:
        assert conn.execute("SELECT value FROM legacy_marker").fetchall() == [(42,)]
        assert conn.execute("SELECT name FROM sqlite_master WHERE name='hosts'").fetchone() is None
    finally:
        conn.close()
    # The live file was upgraded.
    assert _host_rows(db_path) == [("localhost", "local")]

    # A second open has nothing to upgrade and makes no further backup.
    eng = open_database(db_path, backup_dir=backup_dir)
    eng.dispose()
    assert list(backup_dir.iterdir()) == [backup]


def test_upgrade_without_backup_dir_still_upgrades(db_path: Path) -> None:
    _downgrade_to_base(db_path)
    eng = open_database(db_path)
    eng.dispose()
    assert _host_rows(db_path) == [("localhost", "local")]


def test_backup_copies_consistently(engine: Engine, tmp_path: Path) -> None:
    HostRepository(engine).add(web())
    target = tmp_path / "copy.sqlite3"
    database.backup_to(engine, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _host_rows(target) == [("localhost", "local"), ("web1", "ssh")]


def test_backup_in_steps_is_one_snapshot_while_another_process_writes(
    engine: Engine, db_path: Path, tmp_path: Path
) -> None:
    """Without its read transaction the copy would restart at every outside write."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE filler (blob BLOB)"))
        for _ in range(3 * database.BACKUP_STEP_PAGES):
            conn.execute(text("INSERT INTO filler VALUES (randomblob(3000))"))
    seen: list[tuple[int, int]] = []

    def write_elsewhere(copied: int, total: int) -> None:
        seen.append((copied, total))
        if len(seen) > 20:
            raise AssertionError(f"the copy restarted: {seen}")
        other = sqlite3.connect(db_path)
        other.execute("INSERT INTO filler VALUES (x'00')")
        other.commit()
        other.close()

    target = tmp_path / "copy.sqlite3"
    database.backup_to(engine, target, write_elsewhere)
    copied = [c for c, _ in seen]
    assert copied == sorted(copied), "no restart"
    assert len(seen) < 10
    assert seen[-1][0] == seen[-1][1]
    conn = sqlite3.connect(target)
    try:
        count = conn.execute("SELECT count(*) FROM filler").fetchone()[0]
    finally:
        conn.close()
    assert count == 3 * database.BACKUP_STEP_PAGES, "what was written meanwhile is not in it"


def test_future_revision_is_refused(db_path: Path, backup_dir: Path) -> None:
    eng = open_database(db_path, backup_dir=backup_dir)
    with eng.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    eng.dispose()

    with pytest.raises(ConfigurationError) as info:
        open_database(db_path, backup_dir=backup_dir)
    message = str(info.value)
    assert str(db_path) in message
    assert "newer version" in message
    assert "9999_from_the_future" in message
    # Nothing was touched: no backup, and the revision is unchanged.
    assert not backup_dir.exists() or list(backup_dir.iterdir()) == []
    conn = _raw(db_path)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            "9999_from_the_future",
        )
    finally:
        conn.close()


def test_unreadable_file_is_a_configuration_error(db_path: Path, backup_dir: Path) -> None:
    db_path.write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(ConfigurationError) as info:
        open_database(db_path, backup_dir=backup_dir)
    assert str(db_path) in str(info.value)


# --------------------------------------------------------------------------- HostRepository


def test_add_find_get_list(repo: HostRepository) -> None:
    host = web(port=2222, user="deploy", interval_seconds=60, tags=("prod", "env:eu"))
    host_id = repo.add(host)
    assert host_id > 1

    found = repo.find("web1")
    assert found is not None
    assert found.id == host_id
    assert found.host == host
    assert found.host.tags == ("prod", "env:eu")
    assert found.status is None
    assert repo.get("web1") == found
    assert repo.find("nope") is None

    repo.add(web("alpha"))
    assert [r.host.name for r in repo.list()] == ["alpha", "localhost", "web1"]


def test_host_round_trips_every_field(repo: HostRepository) -> None:
    host = Host(
        name="db-1",
        address="2001:db8::5",
        port=2200,
        user="ops",
        auth=AuthMethod.AGENT,
        key_ref="ssh-key/abc",
        interval_seconds=3600,
        enabled=False,
        tags=("a", "b.c", "d:e"),
        host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample",
    )
    repo.add(host)
    assert repo.get("db-1").host == host


def test_tags_are_stored_as_json(repo: HostRepository, engine: Engine) -> None:
    repo.add(web(tags=("prod", "eu")))
    with engine.connect() as conn:
        raw = conn.execute(select(hosts.c.tags).where(hosts.c.name == "web1")).scalar_one()
    assert json.loads(raw) == ["prod", "eu"]


def test_duplicate_name_is_an_input_error(repo: HostRepository) -> None:
    repo.add(web())
    with pytest.raises(InputError, match="already exists") as info:
        repo.add(Host(name="web1", address="198.51.100.1"))
    assert "host edit web1" in str(info.value)
    assert [r.host.address for r in repo.list() if r.host.name == "web1"] == ["203.0.113.10"]
    with pytest.raises(InputError):
        repo.add(web("localhost"))


def test_get_missing_host_mentions_host_list(repo: HostRepository) -> None:
    with pytest.raises(InputError) as info:
        repo.get("ghost")
    assert "ghost" in str(info.value)
    assert "host list" in str(info.value)


def test_replace(repo: HostRepository) -> None:
    host_id = repo.add(web(tags=("old",)))
    edited = web(port=2022, interval_seconds=30, enabled=False, tags=("new", "x"))
    repo.replace("web1", edited)
    record = repo.get("web1")
    assert record.id == host_id
    assert record.host == edited


def test_remove(repo: HostRepository) -> None:
    repo.add(web())
    repo.remove("web1")
    assert repo.find("web1") is None
    assert [r.host.name for r in repo.list()] == ["localhost"]
    repo.remove("web1")  # removing again is harmless


def test_set_system_info(repo: HostRepository) -> None:
    host_id = repo.add(web())
    repo.set_system_info(host_id, SystemInfo("web1.example", "6.1.0-18-amd64", "Debian 12"))
    assert repo.get("web1").system_info == SystemInfo("web1.example", "6.1.0-18-amd64", "Debian 12")


# --------------------------------------------------------------------------- ResultsWriter


@pytest.fixture
def writer(engine: Engine) -> ResultsWriter:
    return ResultsWriter(engine)


def test_write_stores_check_status_event_and_samples(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    host_id = repo.get("localhost").id
    metrics = make_metrics()
    info = SystemInfo("box", "6.8.0", "Ubuntu 24.04")
    changes = writer.write([(host_id, result("localhost", 1000, metrics=metrics, info=info))])

    assert changes == [StateChange(host_id, "localhost", None, "ok", "All good")]
    with engine.connect() as conn:
        check_rows = conn.execute(select(checks).where(checks.c.host_id == host_id)).all()
        event_rows = conn.execute(select(events).where(events.c.host_id == host_id)).all()
    assert [(r.checked_at, r.state, r.problem, r.message, r.duration_ms) for r in check_rows] == [
        (1000, "ok", None, "All good", 12)
    ]
    assert [(r.at, r.kind, r.old_state, r.new_state, r.problem) for r in event_rows] == [
        (1000, "state_change", None, "ok", None)
    ]

    record = repo.get("localhost")
    assert record.status is not None
    assert record.status.state is HostState.OK
    assert record.status.since == 1000
    assert record.status.checked_at == 1000
    assert record.status.metrics == metrics
    assert record.system_info == info

    history = HistoryReader(engine)
    expected = flatten(metrics)
    assert history.metrics_of(host_id) == sorted(name for name, _ in expected)
    for name, value in expected:
        assert history.points(host_id, name, since=0) == [Point(1000, value)]


def test_status_since_and_events_follow_state_changes(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    host_id = repo.add(web())

    def status() -> tuple[str, str | None, int, int, str]:
        s = repo.get("web1").status
        assert s is not None
        return (
            s.state.value,
            s.problem.value if s.problem else None,
            s.since,
            s.checked_at,
            s.message,
        )

    assert writer.write([(host_id, result("web1", 100))]) == [
        StateChange(host_id, "web1", None, "ok", "All good")
    ]
    assert status() == ("ok", None, 100, 100, "All good")

    # Same state again: no event, `since` unchanged, latest check time and message updated.
    assert writer.write([(host_id, result("web1", 115, message="Still good"))]) == []
    assert status() == ("ok", None, 100, 115, "Still good")

    warn = result("web1", 130, HostState.WARNING, Problem.CPU_HIGH, "CPU at 90% (limit 85%)")
    assert writer.write([(host_id, warn)]) == [
        StateChange(host_id, "web1", "ok", "warning", "CPU at 90% (limit 85%)")
    ]
    assert status() == ("warning", "cpu_high", 130, 130, "CPU at 90% (limit 85%)")

    # Same state, different problem: that is a change too.
    disk = result("web1", 145, HostState.WARNING, Problem.DISK_HIGH, "disk / at 88% (limit 85%)")
    assert writer.write([(host_id, disk)]) == [
        StateChange(host_id, "web1", "warning", "warning", "disk / at 88% (limit 85%)")
    ]
    assert status()[:3] == ("warning", "disk_high", 145)

    again = result("web1", 160, HostState.WARNING, Problem.DISK_HIGH, "disk / at 89% (limit 85%)")
    assert writer.write([(host_id, again)]) == []
    assert status()[2:4] == (145, 160)

    down = result("web1", 175, HostState.UNREACHABLE, Problem.TIMEOUT, "timed out")
    assert writer.write([(host_id, down)]) == [
        StateChange(host_id, "web1", "warning", "unreachable", "timed out")
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.at, events.c.old_state, events.c.new_state, events.c.problem)
            .where(events.c.host_id == host_id)
            .order_by(events.c.at)
        ).all()
    assert [tuple(r) for r in rows] == [
        (100, None, "ok", None),
        (130, "ok", "warning", "cpu_high"),
        (145, "warning", "warning", "disk_high"),
        (175, "warning", "unreachable", "timeout"),
    ]
    assert _count(engine, checks, checks.c.host_id == host_id) == 6


def test_failed_check_keeps_no_metrics(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    host_id = repo.add(web())
    writer.write([(host_id, result("web1", 100, metrics=make_metrics()))])
    writer.write(
        [(host_id, result("web1", 200, HostState.CRITICAL, Problem.AUTH_FAILED, "denied"))]
    )
    status = repo.get("web1").status
    assert status is not None
    assert status.metrics is None
    assert status.problem is Problem.AUTH_FAILED
    # Samples exist only for the poll that had metrics.
    reader = HistoryReader(engine)
    assert reader.points(host_id, "cpu.percent", since=0) == [Point(100, 10.0)]


def test_one_write_for_several_hosts(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    a = repo.add(web("a"))
    b = repo.add(web("b"))
    changes = writer.write(
        [
            (a, result("a", 100, metrics=make_metrics(cpu=1.0))),
            (b, result("b", 100, metrics=make_metrics(cpu=2.0))),
        ]
    )
    assert [c.host_name for c in changes] == ["a", "b"]
    reader = HistoryReader(engine)
    assert reader.points(a, "cpu.percent", 0) == [Point(100, 1.0)]
    assert reader.points(b, "cpu.percent", 0) == [Point(100, 2.0)]


def test_empty_write_is_a_no_op(engine: Engine, writer: ResultsWriter) -> None:
    assert writer.write([]) == []
    assert _count(engine, checks) == 0


def test_results_for_a_removed_host_are_skipped(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    keep = repo.get("localhost").id
    gone = repo.add(web())
    repo.remove("web1")
    changes = writer.write(
        [
            (gone, result("web1", 100, metrics=make_metrics())),
            (keep, result("localhost", 100, metrics=make_metrics())),
            (9999, result("never", 100, metrics=make_metrics())),
        ]
    )
    assert [c.host_name for c in changes] == ["localhost"]
    assert _count(engine, checks) == 1
    assert _count(engine, host_status) == 1
    assert _count(engine, series, series.c.host_id == gone) == 0
    assert _count(engine, series, series.c.host_id == keep) == len(flatten(make_metrics()))


def test_results_after_remove_and_add_reach_the_new_host(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    """A long-running writer has cached series ids for a host that is then removed. Host and
    series ids are AUTOINCREMENT, so a host added afterwards never reuses the old id and its
    results land in its own series instead of failing or reaching a deleted one."""
    old_id = repo.add(web("old"))
    writer.write([(old_id, result("old", 100, metrics=make_metrics(cpu=1.0)))])
    repo.remove("old")
    new_id = repo.add(web("new"))
    assert new_id != old_id

    writer.write([(new_id, result("new", 200, metrics=make_metrics(cpu=2.0)))])

    reader = HistoryReader(engine)
    assert reader.points(new_id, "cpu.percent", 0) == [Point(200, 2.0)]
    assert repo.get("new").status is not None


def test_same_host_and_timestamp_twice_does_not_fail(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    host_id = repo.add(web())
    first = result("web1", 100, metrics=make_metrics(cpu=5.0))
    writer.write([(host_id, first)])
    writer.write([(host_id, result("web1", 100, metrics=make_metrics(cpu=6.0)))])
    # Also twice within one batch, through a fresh writer (no cached series ids).
    ResultsWriter(engine).write([(host_id, first), (host_id, first)])

    n_series = len(flatten(make_metrics()))
    assert _count(engine, series, series.c.host_id == host_id) == n_series
    assert _count(engine, staged_samples) == n_series
    points = HistoryReader(engine).points(host_id, "cpu.percent", 0)
    assert [p.ts for p in points] == [100]
    assert _count(engine, checks, checks.c.host_id == host_id) == 4


def test_new_series_appear_when_a_disk_is_added(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    host_id = repo.add(web())
    writer.write([(host_id, result("web1", 100, metrics=make_metrics()))])
    more = make_metrics(
        disks=(DiskUsage("/", "ext4", 100, 40, 60), DiskUsage("/data", "xfs", 10, 9, 1))
    )
    writer.write([(host_id, result("web1", 200, metrics=more))])
    reader = HistoryReader(engine)
    assert "disk.percent:/data" in reader.metrics_of(host_id)
    assert reader.points(host_id, "disk.percent:/data", 0) == [Point(200, 90.0)]
    assert reader.points(host_id, "disk.percent:/", 0) == [Point(100, 40.0), Point(200, 40.0)]


def test_removing_a_host_cascades(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    host_id = repo.add(web())
    other = repo.get("localhost").id
    for at in (100, 200):
        writer.write(
            [
                (host_id, result("web1", at, metrics=make_metrics())),
                (other, result("localhost", at, metrics=make_metrics())),
            ]
        )
    assert _count(engine, staged_samples) > 0
    per_host = len(flatten(make_metrics()))

    repo.remove("web1")

    assert _count(engine, series, series.c.host_id == host_id) == 0
    assert _count(engine, checks, checks.c.host_id == host_id) == 0
    assert _count(engine, events, events.c.host_id == host_id) == 0
    assert _count(engine, host_status, host_status.c.host_id == host_id) == 0
    # The other host's data is untouched.
    assert _count(engine, staged_samples) == 2 * per_host
    assert _count(engine, series) == per_host
    assert _count(engine, checks) == 2
    assert _count(engine, events) == 1
    assert _count(engine, host_status) == 1


# --------------------------------------------------------------------------- HistoryReader


def test_history_metrics_of_and_points(
    engine: Engine, repo: HostRepository, writer: ResultsWriter
) -> None:
    host_id = repo.add(web())
    reader = HistoryReader(engine)
    assert reader.metrics_of(host_id) == []
    # Written out of order.
    for at, cpu in [(300, 3.0), (100, 1.0), (500, 5.0), (200, 2.0), (400, 4.0)]:
        writer.write([(host_id, result("web1", at, metrics=make_metrics(cpu=cpu)))])

    assert reader.metrics_of(host_id) == sorted(reader.metrics_of(host_id))
    assert "cpu.percent" in reader.metrics_of(host_id)
    assert "net.rx_bytes:eth0" in reader.metrics_of(host_id)

    all_points = reader.points(host_id, "cpu.percent", since=0)
    assert all_points == [Point(t, t / 100) for t in (100, 200, 300, 400, 500)]
    # Both bounds are inclusive.
    assert reader.points(host_id, "cpu.percent", since=200, until=400) == [
        Point(200, 2.0),
        Point(300, 3.0),
        Point(400, 4.0),
    ]
    assert reader.points(host_id, "cpu.percent", since=201, until=399) == [Point(300, 3.0)]
    assert reader.points(host_id, "cpu.percent", since=400) == [Point(400, 4.0), Point(500, 5.0)]
    assert reader.points(host_id, "cpu.percent", since=501) == []
    assert reader.points(host_id, "cpu.percent", since=300, until=299) == []
    assert reader.points(host_id, "no.such.metric", since=0) == []


def test_history_is_per_host(engine: Engine, repo: HostRepository, writer: ResultsWriter) -> None:
    a = repo.add(web("a"))
    b = repo.add(web("b"))
    writer.write([(a, result("a", 100, metrics=make_metrics(cpu=11.0)))])
    writer.write([(b, result("b", 100, metrics=make_metrics(cpu=None)))])
    reader = HistoryReader(engine)
    assert "cpu.percent" in reader.metrics_of(a)
    assert "cpu.percent" not in reader.metrics_of(b)
    assert reader.points(b, "cpu.percent", 0) == []
    assert reader.points(a, "cpu.percent", 0) == [Point(100, 11.0)]


def test_enabled_hosts_are_read_without_their_status(repo: HostRepository) -> None:
    web_id = repo.add(web("web1"))
    repo.add(web("off").model_copy(update={"enabled": False}))
    enabled = repo.enabled_hosts()
    assert set(enabled) == {web_id, repo.get("localhost").id}
    assert enabled[web_id] == web("web1")


def test_enabled_hosts_follow_edits_made_by_another_process(engine: Engine) -> None:
    reader = HostRepository(engine)  # the service's repository
    editor = HostRepository(engine)  # the CLI's or the GUI's
    web_id = editor.add(web("web1"))
    first = reader.enabled_hosts()
    assert reader.enabled_hosts()[web_id] is first[web_id]  # unchanged rows are reused
    editor.replace("web1", web("web1").model_copy(update={"port": 2222}))
    assert reader.enabled_hosts()[web_id].port == 2222
    editor.replace("web1", web("web1").model_copy(update={"enabled": False}))
    assert web_id not in reader.enabled_hosts()
    editor.replace("web1", web("web1"))
    assert reader.enabled_hosts()[web_id] == web("web1")

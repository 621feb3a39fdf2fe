"""The live stream's log: messages written in the transaction of what they report (so a failed
write leaves none), numbered in order, published once committed, and pruned by age."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Connection, Engine, func, select

from tests.unit.fake_clock import FakeClock
from tests.unit.test_alert_manager import HOST, metrics
from tests.unit.test_store import make_metrics, result, web
from vpshealth.domain.containers import ContainerIncident, IncidentKind
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.live import LiveDraft, LiveKind, LiveMessage
from vpshealth.engine.alert_manager import AlertManager
from vpshealth.engine.history_upkeep import HistoryUpkeep
from vpshealth.engine.live_hub import LiveHub
from vpshealth.engine.recorder import Recorder
from vpshealth.store import live_log as live_log_module
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.incident_repository import IncidentRepository
from vpshealth.store.live_log import LiveLog
from vpshealth.store.maintenance import Retention
from vpshealth.store.results_writer import ResultsWriter
from vpshealth.store.schema import checks, incidents, live_log, notifications

T = TypeVar("T")
T0 = 1_800_000_000


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "vpshealth.sqlite3")
    yield engine
    engine.dispose()


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def logged(engine: Engine) -> list[LiveMessage]:
    return LiveLog(engine).after(0, set(LiveKind), limit=100_000)


def failing_after_append(monkeypatch: pytest.MonkeyPatch) -> None:
    """The messages are inserted, then the transaction fails."""
    real = live_log_module.append

    def append(conn: Connection, drafts: Sequence[LiveDraft]) -> list[LiveMessage]:
        real(conn, drafts)
        raise RuntimeError("disk full")

    monkeypatch.setattr(live_log_module, "append", append)


def test_a_batch_logs_a_check_message_per_result_and_one_per_state_change(
    engine: Engine,
) -> None:
    repo = HostRepository(engine)
    web1, web2 = repo.add(web("web1")), repo.add(web("web2"))
    writer = ResultsWriter(engine)
    first = writer.write_batch(
        [
            (web1, result("web1", T0, metrics=make_metrics(cpu=12.5))),
            (web2, result("web2", T0, HostState.WARNING, Problem.CPU_HIGH, "CPU at 90%")),
        ]
    )
    second = writer.write_batch([(web1, result("web1", T0 + 10, metrics=make_metrics()))])

    kinds = [(m.seq, m.kind.value, m.host) for m in first.live + second.live]
    assert kinds == [
        (1, "check", "web1"),
        (2, "state", "web1"),  # new: no state before
        (3, "check", "web2"),
        (4, "state", "web2"),
        (5, "check", "web1"),  # no change
    ]
    assert logged(engine) == first.live + second.live
    check = first.live[0].to_json()
    assert check["at"] == "2027-01-15T08:00:00Z"
    assert check["data"] == {
        "state": "ok",
        "problem": None,
        "message": "All good",
        "cpu_percent": 12.5,
        "memory_percent": 40.0,
        "load1": 0.1,
        "disk_percent": 40.0,
        "containers": None,
    }
    state = next(m for m in first.live if m.kind is LiveKind.STATE and m.host == "web2")
    assert state.data == {
        "old_state": None,
        "new_state": "warning",
        "problem": "cpu_high",
        "message": "CPU at 90%",
    }


def test_a_failed_batch_leaves_neither_its_rows_nor_its_messages(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    host_id = HostRepository(engine).add(web())
    failing_after_append(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        ResultsWriter(engine).write_batch([(host_id, result("web1", T0))])
    assert count(engine, live_log) == 0
    assert count(engine, checks) == 0


def test_container_incidents_of_a_one_off_check_are_logged(engine: Engine) -> None:
    host_id = HostRepository(engine).add(web())
    crash = ContainerIncident(
        IncidentKind.CRASHED, True, T0, "c" * 64, "shop-web-1", "shop / web", "exited (1)"
    )
    resolved = ContainerIncident(
        IncidentKind.CRASHED, False, T0 + 60, "c" * 64, "shop-web-1", "shop / web", "running again"
    )
    writer = ResultsWriter(engine, record_incidents=True)
    opened = writer.write_batch([], [(host_id, crash)]).live
    closed = writer.write_batch([], [(host_id, resolved)]).live
    assert [(m.kind.value, m.data["event"], m.host) for m in opened + closed] == [
        ("incident", "opened", "web1"),
        ("incident", "resolved", "web1"),
    ]
    assert closed[0].data["resolution"] == "running again"
    assert closed[0].data["id"] == opened[0].data["id"]


def test_a_one_off_check_moves_a_crash_into_its_restart_loop(engine: Engine) -> None:
    host_id = HostRepository(engine).add(web())
    crash = ContainerIncident(
        IncidentKind.CRASHED, True, T0, "c" * 64, "shop-web-1", "shop / web", "exited (1)"
    )
    loop = ContainerIncident(
        IncidentKind.RESTART_LOOP, True, T0 + 9, "c" * 64, "shop-web-1", "shop / web",
        "keeps crashing", replaces=IncidentKind.CRASHED,
    )  # fmt: skip
    writer = ResultsWriter(engine, record_incidents=True)
    opened = writer.write_batch([], [(host_id, crash)]).live
    moved = writer.write_batch([], [(host_id, loop)]).live
    assert [(m.data["event"], m.data["rule"]) for m in opened + moved] == [
        ("opened", "crashed"),
        ("updated", "restart_loop"),
    ]
    assert moved[0].data["id"] == opened[0].data["id"]
    assert moved[0].data["message"] == "keeps crashing"
    assert moved[0].data["resolved_at"] is None


async def _inline(fn: Callable[[], T]) -> T:
    return fn()


async def test_incidents_and_notifications_are_logged_and_published_once_committed(
    engine: Engine,
) -> None:
    host_id = HostRepository(engine).add(HOST)
    clock = FakeClock(T0)
    hub = LiveHub(missed=LiveLog(engine).between)
    subscription = hub.subscribe()
    manager = AlertManager(engine, clock, _inline, live=hub)
    manager.track_host(host_id, HOST)
    await manager.start()

    async def poll(disk: float) -> None:
        manager.observe(host_id, CheckResult("web1", int(clock.now()), HostState.OK, None, "ok",
                                             metrics=metrics(disk)))  # fmt: skip
        clock.t += 5
        await manager.step()

    await poll(40)
    await poll(40)
    await poll(97)
    incident_id = IncidentRepository(engine).list()[0].id
    assert IncidentRepository(engine).acknowledge(incident_id, int(clock.now()))  # the CLI
    await poll(50)
    await asyncio.sleep(0)

    stored = logged(engine)
    assert [(m.kind.value, m.data.get("event") or m.data.get("kind")) for m in stored] == [
        ("incident", "opened"),
        ("notification", "opened"),
        ("incident", "acknowledged"),
        ("incident", "resolved"),
        ("notification", "resolved"),
    ]
    published = await subscription.next_batch()
    assert published == stored  # 3, written by another process, filled in before 4
    opened = stored[1].data
    with engine.connect() as conn:
        notification_id = conn.execute(select(func.min(notifications.c.id))).scalar_one()
    assert opened["id"] == notification_id
    assert opened["incident_id"] == incident_id
    assert opened["since"] == "2027-01-15T08:00:10Z"
    assert stored[2].data["acknowledged"] is True


async def test_a_failed_save_of_incidents_leaves_no_message(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    host_id = HostRepository(engine).add(HOST)
    clock = FakeClock(T0)
    manager = AlertManager(engine, clock, _inline, live=LiveHub())
    manager.track_host(host_id, HOST)
    await manager.start()
    for disk in (40, 40):
        manager.observe(host_id, CheckResult("web1", T0, HostState.OK, None, "ok",
                                             metrics=metrics(disk)))  # fmt: skip
    await manager.step()
    manager.observe(host_id, CheckResult("web1", T0 + 5, HostState.OK, None, "ok",
                                         metrics=metrics(97)))  # fmt: skip
    failing_after_append(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        await manager.step()
    assert count(engine, live_log) == 0
    assert count(engine, incidents) == 0
    assert count(engine, notifications) == 0


async def test_the_recorder_publishes_each_batch_after_writing_it(engine: Engine) -> None:
    host_id = HostRepository(engine).add(web())
    hub = LiveHub()
    subscription = hub.subscribe({LiveKind.CHECK})
    recorder = Recorder(ResultsWriter(engine), hub)
    try:
        recorder.add(host_id, result("web1", T0))
        await recorder.flush()
        async with asyncio.timeout(5):
            batch = await subscription.next_batch()
    finally:
        recorder.close()
    assert batch == [m for m in logged(engine) if m.kind is LiveKind.CHECK]


def _log_at(engine: Engine, *rows: tuple[LiveKind, float]) -> None:
    with engine.begin() as conn:
        live_log_module.append(conn, [LiveDraft(kind, at, None, None, {}) for kind, at in rows])


def test_pruning_removes_old_messages_in_chunks_and_remembers_where_the_log_is_complete(
    engine: Engine,
) -> None:
    _log_at(
        engine,
        *[(LiveKind.CHECK, T0 + i) for i in range(5)],  # seq 1-5
        (LiveKind.STATE, T0 + 1),  # 6
        (LiveKind.CHECK, T0 + 100),  # 7
    )
    log = LiveLog(engine)
    assert log.complete_from() == {}
    assert log.prune({LiveKind.CHECK}, T0 + 50, T0 + 50, limit=3).done is False
    assert log.complete_from() == {LiveKind.CHECK: 4}  # 1-3 gone, in one transaction
    assert log.prune({LiveKind.CHECK}, T0 + 50, T0 + 50, limit=3).done is True
    assert [m.seq for m in logged(engine)] == [6, 7]
    assert log.complete_from() == {LiveKind.CHECK: 6}
    assert log.last_seq() == 7


def test_an_emptied_log_still_knows_its_last_number(engine: Engine) -> None:
    _log_at(engine, (LiveKind.CHECK, T0), (LiveKind.CHECK, T0))
    LiveLog(engine).prune({LiveKind.CHECK}, T0 + 1, T0 + 1)
    assert logged(engine) == []
    assert LiveLog(engine).last_seq() == 2


async def test_the_upkeep_keeps_check_messages_an_hour_and_the_others_longer(
    engine: Engine,
) -> None:
    now = T0 + 10 * 3600
    _log_at(
        engine,
        (LiveKind.CHECK, now - 2 * 3600),
        (LiveKind.NOTIFICATION, now - 2 * 3600),
        (LiveKind.CHECK, now - 600),
        (LiveKind.STATE, now - 5 * 3600),
    )
    recorder = Recorder(ResultsWriter(engine))
    retention = Retention(live_checks=3600, hour=4 * 3600)
    upkeep = HistoryUpkeep(engine, retention, FakeClock(now), recorder.run_in_writer)
    try:
        await upkeep.prune_live_log(now)
    finally:
        recorder.close()
    assert [m.seq for m in logged(engine)] == [2, 3]
    assert LiveLog(engine).complete_from() == {LiveKind.CHECK: 2, LiveKind.STATE: 5}
    with engine.connect() as conn:
        value = conn.exec_driver_sql(
            "SELECT value FROM settings WHERE key = 'live.complete_from.check'"
        ).scalar_one()
    assert json.loads(value) == 2

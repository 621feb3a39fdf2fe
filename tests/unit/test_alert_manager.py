"""The alert manager against a real SQLite file, with a virtual clock: what is announced, held,
stored and shown."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine, select

from vpshealth.domain.containers import ContainerIncident, IncidentKind, Severity
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.domain.live import LiveKind
from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
)
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.engine import alert_manager
from vpshealth.engine.alert_manager import AlertManager
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.incident_repository import IncidentRepository
from vpshealth.store.incident_store import LIVE_LOG_CHARS
from vpshealth.store.live_log import LiveLog
from vpshealth.store.notification_queue import NotificationQueue
from vpshealth.store.rule_repository import RuleRepository
from vpshealth.store.schema import notifications
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.store.silence_repository import SilenceRepository

from .fake_clock import FakeClock

T = TypeVar("T")
START = 1_800_000_000


class Recording:
    def __init__(self) -> None:
        self.shown: list[Notification] = []

    def notify(self, notifications: Sequence[Notification]) -> None:
        self.shown.extend(notifications)

    def kinds(self) -> list[tuple[NotificationKind, str]]:
        return [(n.kind, n.rule) for n in self.shown]


async def _inline(fn: Callable[[], T]) -> T:
    return fn()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_database(tmp_path / "vpshealth.sqlite3")


@pytest.fixture
def host_id(engine: Engine) -> int:
    return HostRepository(engine).add(HOST)


HOST = Host(name="web1", address="203.0.113.10")


def metrics(disk_percent: float = 40.0, cpu: float = 10.0) -> HostMetrics:
    used = int(disk_percent)
    return HostMetrics(
        cpu_percent=cpu,
        cpu_count=2,
        load=LoadAverage(0.1, 0.2, 0.3),
        memory=MemoryUsage(total_bytes=1000, available_bytes=600),
        swap=SwapUsage(total_bytes=100, free_bytes=100),
        uptime_seconds=42.0,
        disks=(DiskUsage("/", "ext4", 100, used, 100 - used),),
        network=(NetworkCounters("eth0", 1000, 2000),),
    )


class Harness:
    def __init__(self, engine: Engine, host_id: int, clock: FakeClock) -> None:
        self.engine = engine
        self.host_id = host_id
        self.clock = clock
        self.seen = Recording()
        self.manager = AlertManager(engine, clock, _inline, [self.seen])
        self.manager.track_host(host_id, HOST)

    def poll(self, disk: float = 40.0, *, problem: Problem | None = None) -> None:
        at = int(self.clock.now())
        if problem is not None:
            result = CheckResult("web1", at, HostState.UNREACHABLE, problem, "connection refused")
        else:
            result = CheckResult("web1", at, HostState.OK, None, "ok", metrics=metrics(disk))
        self.manager.observe(self.host_id, result)

    async def step(self, after: float = 5.0) -> list[Notification]:
        self.clock.t += after
        return await self.manager.step()

    async def run_for(self, seconds: float) -> None:
        """Step as the running service does (often), so no step looks like a wake-up."""
        for _ in range(int(seconds // 20)):
            await self.step(after=20)


@pytest.fixture
async def harness(engine: Engine, host_id: int) -> Harness:
    h = Harness(engine, host_id, FakeClock(START))
    await h.manager.start()
    return h


async def test_first_fresh_poll_is_a_baseline_and_the_second_announces(harness: Harness) -> None:
    harness.poll(disk=97)
    assert await harness.step() == []
    harness.poll(disk=97)
    await harness.step()
    assert await harness.step() == []
    assert harness.seen.kinds() == [(NotificationKind.OPENED, "disk")]
    opened = harness.seen.shown[0]
    assert opened.host_name == "web1"
    assert opened.host_address == "203.0.113.10"
    assert (opened.value, opened.threshold, opened.unit) == (97, 95, "%")
    assert opened.title == "disk / filling up"


async def test_a_problem_gone_by_the_second_poll_is_never_announced(harness: Harness) -> None:
    harness.poll(disk=97)
    await harness.step()
    harness.poll(disk=40)
    await harness.step()
    await harness.step()
    assert harness.seen.shown == []
    records = IncidentRepository(harness.engine).list()
    assert [(r.rule, r.is_open) for r in records] == [("disk", False)]


async def _settled(harness: Harness) -> None:
    harness.poll()
    harness.poll()
    await harness.step()


async def test_notifications_are_stored_for_the_outbox(harness: Harness) -> None:
    await _settled(harness)
    harness.poll(disk=97)
    await harness.step()
    harness.poll(disk=50)
    await harness.step()
    assert harness.seen.kinds() == [
        (NotificationKind.OPENED, "disk"),
        (NotificationKind.RESOLVED, "disk"),
    ]
    with harness.engine.connect() as conn:
        rows = conn.execute(select(notifications).order_by(notifications.c.id)).all()
    assert [r.kind for r in rows] == ["opened", "resolved"]
    assert NotificationQueue(harness.engine, "any channel", since=0).has_pending()
    incident = IncidentRepository(harness.engine).list()[0]
    for row in rows:
        stored = Notification.from_json(json.loads(row.payload))
        assert stored.incident_id == incident.id == row.incident_id
        assert stored.host_name == "web1"


async def test_a_restart_neither_repeats_nor_forgets_an_open_incident(
    harness: Harness, engine: Engine, host_id: int
) -> None:
    await _settled(harness)
    harness.poll(disk=97)
    await harness.step()
    assert len(harness.seen.shown) == 1

    restarted = Harness(engine, host_id, FakeClock(harness.clock.now() + 60))
    await restarted.manager.start()
    for _ in range(3):
        restarted.poll(disk=97)
        await restarted.step()
    assert restarted.seen.shown == []
    restarted.poll(disk=40)
    await restarted.step()
    assert restarted.seen.kinds() == [(NotificationKind.RESOLVED, "disk")]
    assert IncidentRepository(engine).list(open_only=True) == []


async def test_reminders_stop_once_acknowledged(harness: Harness) -> None:
    RuleRepository(harness.engine).update(None, {"reminder.hours": 1}, START)
    await _settled(harness)
    harness.poll(disk=97)
    await harness.step()
    await harness.run_for(3620)
    assert harness.seen.kinds() == [
        (NotificationKind.OPENED, "disk"),
        (NotificationKind.REMINDER, "disk"),
    ]
    incident = IncidentRepository(harness.engine).list(open_only=True)[0]
    assert incident.reminders_sent == 1
    assert IncidentRepository(harness.engine).acknowledge(incident.id, START)
    await harness.step(after=alert_manager.REFRESH_SECONDS)
    await harness.run_for(3 * 3600)
    assert len(harness.seen.shown) == 2
    harness.poll(disk=40)
    await harness.step()
    assert harness.seen.kinds()[-1] == (NotificationKind.RESOLVED, "disk")


async def test_a_snooze_holds_openings_until_it_ends(harness: Harness) -> None:
    await _settled(harness)
    now = int(harness.clock.now())
    SilenceRepository(harness.engine).snooze(harness.host_id, now + 600, now)
    await harness.step(after=alert_manager.REFRESH_SECONDS)
    harness.poll(disk=97)
    await harness.step()
    await harness.run_for(300)
    assert harness.seen.shown == []
    await harness.run_for(600)
    assert harness.seen.kinds() == [(NotificationKind.OPENED, "disk")]


async def test_unreachable_after_three_failed_polls_names_the_host(harness: Harness) -> None:
    await _settled(harness)
    for _ in range(2):
        harness.poll(problem=Problem.UNREACHABLE)
        await harness.step()
    assert harness.seen.shown == []
    harness.poll(problem=Problem.UNREACHABLE)
    await harness.step()
    assert harness.seen.kinds() == [(NotificationKind.OPENED, "unreachable")]
    assert harness.seen.shown[0].severity is Severity.CRITICAL
    assert harness.seen.shown[0].title == "not answering"


async def test_container_incidents_name_the_app(harness: Harness) -> None:
    await _settled(harness)
    at = int(harness.clock.now())
    loop = ContainerIncident(
        IncidentKind.RESTART_LOOP, True, at, "c" * 64, "shop-web-1", "shop / production / web",
        "shop-web-1 (shop / production / web) restarted 5 times in 10 min",
    )  # fmt: skip
    harness.manager.observe_incidents(harness.host_id, [loop])
    await harness.step()
    assert harness.seen.kinds() == [(NotificationKind.OPENED, "restart_loop")]
    shown = harness.seen.shown[0]
    assert shown.app == "shop / production / web"
    assert shown.title == "restart loop of shop / production / web"


async def test_container_alerts_can_be_switched_off_per_host(harness: Harness) -> None:
    RuleRepository(harness.engine).update(harness.host_id, {"containers": 0}, START)
    await harness.step(after=alert_manager.REFRESH_SECONDS)
    await _settled(harness)
    crash = ContainerIncident(
        IncidentKind.CRASHED, True, int(harness.clock.now()), "d" * 64, "api", None, "api exited"
    )
    harness.manager.observe_incidents(harness.host_id, [crash])
    await harness.step()
    assert harness.seen.shown == []
    assert IncidentRepository(harness.engine).list() == []


async def test_desktop_minimum_severity_filters_what_is_shown_not_what_is_stored(
    harness: Harness,
) -> None:
    SettingsRepository(harness.engine).update({"desktop.min_severity": "critical"}, START)
    await harness.step(after=alert_manager.REFRESH_SECONDS)
    await _settled(harness)
    harness.poll(disk=90)
    await harness.step()
    assert harness.seen.shown == []
    with harness.engine.connect() as conn:
        kinds = conn.execute(select(notifications.c.kind, notifications.c.severity)).all()
    assert [tuple(k) for k in kinds] == [("opened", "warning")]


async def test_waking_from_sleep_is_quiet_again(harness: Harness) -> None:
    await _settled(harness)
    await harness.step(after=3600)
    harness.poll(disk=97)
    await harness.step()
    assert harness.seen.shown == [], "the first poll after waking up is a baseline"
    harness.poll(disk=97)
    await harness.step()
    assert harness.seen.kinds() == [(NotificationKind.OPENED, "disk")]


async def test_a_removed_host_is_forgotten(harness: Harness) -> None:
    await _settled(harness)
    harness.poll(disk=97)
    await harness.step()
    harness.manager.forget_host(harness.host_id)
    assert harness.manager.open_incident_count == 0


async def test_the_log_notifier_stays_when_other_notifiers_are_given(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="vpshealth.engine.alert_manager"):
        await _settled(harness)
        harness.poll(disk=97)
        await harness.step()
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Notification")]
    assert harness.seen.kinds() == [(NotificationKind.OPENED, "disk")]
    assert len(logged) == 1
    assert "(opened, critical)" in logged[0]


def _shop(
    kind: IncidentKind, at: int, message: str, replaces: IncidentKind | None = None
) -> ContainerIncident:
    return ContainerIncident(
        kind, True, at, "e" * 64, "shop-web", "shop / production / web", message, replaces=replaces
    )


async def test_a_crash_that_becomes_a_restart_loop_is_one_incident_that_got_worse(
    harness: Harness,
) -> None:
    await _settled(harness)
    opened_at = int(harness.clock.now())
    crash = _shop(IncidentKind.CRASHED, opened_at, "shop-web crashed with exit code 3")
    harness.manager.observe_incidents(harness.host_id, [crash])
    await harness.step()
    (before,) = IncidentRepository(harness.engine).list()
    loop = _shop(
        IncidentKind.RESTART_LOOP,
        opened_at + 5,
        "shop-web keeps crashing: restarted 3 times in 10 min",
        replaces=IncidentKind.CRASHED,
    )
    harness.manager.observe_incidents(harness.host_id, [loop])
    await harness.step()
    assert harness.seen.kinds() == [
        (NotificationKind.OPENED, "crashed"),
        (NotificationKind.ESCALATED, "restart_loop"),
    ]
    worse = harness.seen.shown[1]
    assert worse.title == "restart loop of shop / production / web"
    assert worse.since == opened_at
    assert worse.incident_id == harness.seen.shown[0].incident_id == before.id
    (after,) = IncidentRepository(harness.engine).list()
    assert (after.id, after.rule, after.opened_at, after.resolved_at) == (
        before.id,
        "restart_loop",
        opened_at,
        None,
    )
    assert after.message == "shop-web keeps crashing: restarted 3 times in 10 min"
    # more restarts of the same loop: nothing more
    harness.manager.observe_incidents(harness.host_id, [loop])
    await harness.step()
    assert len(harness.seen.shown) == 2


async def test_a_crash_and_its_loop_in_one_step_are_one_incident(harness: Harness) -> None:
    await _settled(harness)
    at = int(harness.clock.now())
    crash = _shop(IncidentKind.CRASHED, at, "shop-web crashed with exit code 3")
    loop = _shop(
        IncidentKind.RESTART_LOOP, at + 2, "shop-web keeps crashing", replaces=IncidentKind.CRASHED
    )
    harness.manager.observe_incidents(harness.host_id, [crash, loop])
    await harness.step()
    assert harness.seen.kinds() == [
        (NotificationKind.OPENED, "crashed"),
        (NotificationKind.ESCALATED, "restart_loop"),
    ]
    (record,) = IncidentRepository(harness.engine).list()
    assert [n.incident_id for n in harness.seen.shown] == [record.id, record.id]
    assert record.rule == "restart_loop"


async def test_a_loop_replacing_a_crash_held_back_by_the_quiet_start_opens_once(
    harness: Harness,
) -> None:
    at = int(harness.clock.now())
    crash = _shop(IncidentKind.CRASHED, at, "shop-web crashed with exit code 3")
    loop = _shop(
        IncidentKind.RESTART_LOOP, at + 2, "shop-web keeps crashing", replaces=IncidentKind.CRASHED
    )
    harness.manager.observe_incidents(harness.host_id, [crash, loop])
    await harness.step()
    assert harness.seen.shown == []
    await _settled(harness)
    assert harness.seen.kinds() == [(NotificationKind.OPENED, "restart_loop")]


async def test_a_crash_keeps_its_log_lines_in_the_incident_and_the_notification(
    harness: Harness, engine: Engine, host_id: int
) -> None:
    await _settled(harness)
    lines = "starting web\n" + "x" * 5000 + "\nfatal: giving up"
    crash = ContainerIncident(
        IncidentKind.CRASHED, True, int(harness.clock.now()), "d" * 64, "api", None,
        "api exited with code 3", log_lines=lines,
    )  # fmt: skip
    harness.manager.observe_incidents(harness.host_id, [crash])
    await harness.step()
    assert [n.log_lines for n in harness.seen.shown] == [lines]
    record = IncidentRepository(engine).list()[0]
    assert record.log_lines == lines
    assert IncidentRepository(engine).get(record.id) == record
    with engine.connect() as conn:
        payload = conn.execute(select(notifications.c.payload)).scalar_one()
    assert Notification.from_json(json.loads(payload)).log_lines == lines
    live = LiveLog(engine).between(0, 1000)
    carried = [m.data["log_lines"] for m in live if m.kind is LiveKind.NOTIFICATION]
    assert carried == [lines[-LIVE_LOG_CHARS:]]
    assert all("log_lines" not in m.data for m in live if m.kind is LiveKind.INCIDENT)

    restarted = Harness(engine, host_id, FakeClock(harness.clock.now() + 60))
    await restarted.manager.start()
    again = dataclasses.replace(crash, message="api exited again", log_lines=None)
    restarted.manager.observe_incidents(host_id, [again])
    await restarted.step()
    assert IncidentRepository(engine).get(record.id).log_lines == lines  # type: ignore[union-attr]

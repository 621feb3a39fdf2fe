"""Taking over from a silent node: which hosts this computer checks, the takeover database
seeded from the copy, the node's side of the hand-back matched by identity, and the node
holding its alerts after a stall until the hand-back told it what was sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select

from vpshealth.domain.containers import Severity
from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.hosts import AuthMethod, Host, local_host
from vpshealth.domain.notifications import NotificationKind
from vpshealth.domain.takeover import (
    HandedBack,
    TakeoverPlan,
    choose_hosts,
    handed_back,
    same_incident,
    took_over,
)
from vpshealth.engine.alert_manager import STALL_GAP_SECONDS, AlertManager
from vpshealth.operations.takeover import TakeoverSupervisor
from vpshealth.store.database import open_database
from vpshealth.store.handback import RESOLUTION, apply_handback
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.incident_repository import IncidentRepository
from vpshealth.store.schema import hosts, incidents, settings
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.store.takeover_mirror import handed_back as read_handed_back
from vpshealth.store.takeover_mirror import mirror_into
from vpshealth.sync.follower import FollowerStatus

from .fake_clock import FakeClock
from .test_alert_manager import HOST, Recording, metrics

T = TypeVar("T")
START = 1_800_000_000

AGENT = Host(name="web1", address="203.0.113.1", auth=AuthMethod.AGENT)
OWN_KEY = Host(name="web2", address="203.0.113.2", key_ref="vpshealth:key:web2")
NODE_KEY = Host(name="web3", address="203.0.113.3", key_ref="vpshealth:key:web3")
OFF = Host(name="web4", address="203.0.113.4", enabled=False, auth=AuthMethod.AGENT)


def _fleet() -> list[tuple[int, Host]]:
    return [(1, AGENT), (2, OWN_KEY), (3, NODE_KEY), (4, OFF), (5, local_host())]


def test_the_hosts_this_computer_can_log_in_to_are_taken_over() -> None:
    plan = choose_hosts(_fleet(), lambda ref: ref == "vpshealth:key:web2", agent=True)
    assert [name for _, h in plan.checked for name in [h.name]] == ["web1", "web2"]
    assert {s.name: s.why for s in plan.skipped} == {
        "web3": "its login key is on the node; use ssh-agent for it to let this computer take over",
        "localhost": "it is the node itself",
    }
    assert plan.skipped[0].message == (
        "web3 is not checked while the node is silent: its login key is on the node; use "
        "ssh-agent for it to let this computer take over"
    )
    assert plan.checked_ids == {1, 2}


def test_without_an_ssh_agent_agent_hosts_are_named() -> None:
    plan = choose_hosts(_fleet(), lambda ref: False, agent=False)
    assert plan.checked == ()
    assert "none runs on this computer" in plan.skipped[0].why


def test_the_notifications_say_how_many_servers_are_checked() -> None:
    plan = choose_hosts(_fleet(), lambda ref: ref == "vpshealth:key:web2", agent=True)
    told = took_over("root@node", plan, START)
    assert told.kind is NotificationKind.OPENED
    assert told.title == (
        "the node is silent: this computer checks 2 of 4 servers until it is back"
    )
    assert "web3 is not checked while the node is silent" in told.message
    back = handed_back("root@node", 1, START)
    assert back.kind is NotificationKind.RESOLVED
    assert back.title == "the node is back: it runs the checks again; told it of 1 incident"


def _handed(opened: int, resolved: int | None = None, **kw: object) -> HandedBack:
    values: dict[str, object] = {
        "host_id": 1, "rule": "unreachable", "subject": "", "opened_at": opened,
        "severity": Severity.CRITICAL, "message": "not answering", "resolved_at": resolved,
        "notified_at": opened,
    } | kw  # fmt: skip
    return HandedBack(**values)  # type: ignore[arg-type]


def test_the_same_opened_time_is_the_same_incident() -> None:
    assert same_incident(100, None, _handed(100, 150))
    assert same_incident(100, 120, _handed(100))


def test_spells_that_do_not_overlap_are_other_incidents() -> None:
    assert not same_incident(200, None, _handed(100, 150))
    assert not same_incident(10, 50, _handed(100, 150))
    assert same_incident(160, None, _handed(100, 150), slack=20)


@given(
    st.integers(0, 10_000),
    st.one_of(st.none(), st.integers(0, 5_000)),
    st.integers(0, 10_000),
    st.one_of(st.none(), st.integers(0, 5_000)),
)
def test_matching_is_symmetric(a: int, a_len: int | None, b: int, b_len: int | None) -> None:
    a_end = None if a_len is None else a + a_len
    b_end = None if b_len is None else b + b_len
    assert same_incident(a, a_end, _handed(b, b_end)) == same_incident(b, b_end, _handed(a, a_end))


def test_handed_back_survives_json() -> None:
    item = _handed(100, 150, resolve_notified=True, subject="/")
    assert HandedBack.from_json(item.to_json()) == item


@pytest.fixture
def copy(tmp_path: Path) -> Engine:
    engine = open_database(tmp_path / "node-copy.sqlite3")
    with engine.begin() as conn:
        conn.execute(delete(hosts))
        for host_id, host in _fleet():
            conn.execute(
                insert(hosts).values(
                    id=host_id * 10, name=host.name, kind=host.kind.value,
                    address=host.address, port=22, user="root", auth=host.auth.value,
                    key_ref=host.key_ref, interval_seconds=60, enabled=host.enabled,
                    tags="[]", host_key=None, created_at=START, updated_at=START,
                )
            )  # fmt: skip
        conn.execute(
            insert(incidents).values(
                host_id=30, kind="unreachable", subject="", container_id="",
                container_name="", severity="critical", opened_at=START - 600,
                message="not answering", last_notified_at=START - 600,
            )
        )  # fmt: skip
        conn.execute(
            insert(incidents).values(
                host_id=10, kind="disk", subject="/", container_id="", container_name="",
                severity="warning", opened_at=START - 900, resolved_at=START - 300,
                message="disk / 96%",
            )
        )  # fmt: skip
    return engine


def test_the_takeover_database_mirrors_the_copy_by_id(copy: Engine, tmp_path: Path) -> None:
    home = open_database(tmp_path / "vpshealth.sqlite3")
    SettingsRepository(home).update({"email.to": ["ops@example.com"], "other": 1}, START)
    takeover = open_database(tmp_path / "takeover.sqlite3")
    seeded = mirror_into(takeover, copy, home, {10, 20})
    assert seeded == 1
    mirrored = {r.id: (r.host.name, r.host.enabled) for r in HostRepository(takeover).list()}
    assert mirrored == {
        10: ("web1", True),
        20: ("web2", True),
        30: ("web3", False),
        40: ("web4", False),
        50: ("localhost", False),
    }
    open_incidents = IncidentRepository(takeover).list(open_only=True)
    assert [(i.host_id, i.rule, i.opened_at) for i in open_incidents] == [
        (30, "unreachable", START - 600)
    ]
    with takeover.connect() as conn:
        assert set(conn.execute(select(settings.c.key)).scalars()) == {"email.to"}
    assert read_handed_back(takeover, START) == []


@pytest.fixture
def node(tmp_path: Path) -> Engine:
    return open_database(tmp_path / "vpshealth.sqlite3")


def _open(engine: Engine, host_id: int, opened: int, notified: int | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(incidents).values(
                host_id=host_id, kind="unreachable", subject="", container_id="",
                container_name="", severity="critical", opened_at=opened,
                message="not answering", last_notified_at=notified,
            )
        )  # fmt: skip


def test_the_node_marks_the_same_incident_as_told(node: Engine) -> None:
    host_id = HostRepository(node).add(HOST)
    _open(node, host_id, START + 70, None)
    result = apply_handback(node, [_handed(START, host_id=host_id)])
    assert (result.marked, result.resolved, result.recorded) == (1, 0, 0)
    [row] = IncidentRepository(node).list()
    assert row.is_open


def test_the_node_resolves_what_the_desktop_told_was_resolved(node: Engine) -> None:
    host_id = HostRepository(node).add(HOST)
    _open(node, host_id, START - 600, START - 600)
    item = _handed(START - 600, START + 30, host_id=host_id, resolve_notified=True)
    result = apply_handback(node, [item])
    assert (result.marked, result.resolved) == (0, 1)
    with node.connect() as conn:
        row = conn.execute(select(incidents)).one()
    assert (row.resolved_at, row.resolution) == (START + 30, RESOLUTION)


def test_the_node_records_what_it_did_not_see(node: Engine) -> None:
    host_id = HostRepository(node).add(HOST)
    result = apply_handback(
        node, [_handed(START, START + 60, host_id=host_id), _handed(5, host_id=999)]
    )
    assert result.recorded == 1, "host 999 is not the node's: left alone"
    [row] = IncidentRepository(node).list()
    assert (row.opened_at, row.is_open) == (START, False)


async def _inline(fn: Callable[[], T]) -> T:
    return fn()


async def test_after_a_stall_the_node_holds_what_a_hand_back_told_of(node: Engine) -> None:
    host_id = HostRepository(node).add(HOST)
    clock = FakeClock(START)
    seen = Recording()
    manager = AlertManager(node, clock, _inline, [seen], stall_hold=60)
    manager.track_host(host_id, HOST)
    await manager.start()

    def poll(state: HostState) -> None:
        disk = 40.0 if state is HostState.OK else 97.0
        at = int(clock.now())
        manager.observe(host_id, CheckResult("web1", at, HostState.OK, None, "ok", metrics(disk)))

    for _ in range(2):
        poll(HostState.OK)
        clock.t += 2
        await manager.step()
    clock.t += STALL_GAP_SECONDS + 10  # SIGSTOP, then SIGCONT
    for _ in range(5):
        poll(HostState.UNREACHABLE)
        clock.t += 2
        await manager.step()
    assert seen.shown == [], "held after the stall"
    [opened] = IncidentRepository(node).list(open_only=True)
    apply_handback(node, [_handed(START + 20, host_id=host_id, rule="disk", subject="/")])
    for _ in range(40):
        poll(HostState.UNREACHABLE)
        clock.t += 2
        await manager.step()
    assert seen.shown == [], "the desktop told of it: not again"
    poll(HostState.OK)
    clock.t += 2
    await manager.step()
    assert seen.kinds() == [(NotificationKind.RESOLVED, "disk")]
    assert opened.opened_at > START


async def test_after_a_stall_without_hand_back_the_node_tells_once_the_hold_ends(
    node: Engine,
) -> None:
    host_id = HostRepository(node).add(HOST)
    clock = FakeClock(START)
    seen = Recording()
    manager = AlertManager(node, clock, _inline, [seen], stall_hold=60)
    manager.track_host(host_id, HOST)
    await manager.start()
    clock.t += 2
    await manager.step()
    clock.t += STALL_GAP_SECONDS + 10
    at = 0
    while not seen.shown and at < 120:
        at_now = int(clock.now())
        manager.observe(host_id, CheckResult("web1", at_now, HostState.OK, None, "", metrics(97)))
        clock.t += 2
        at += 2
        await manager.step()
    assert seen.kinds() == [(NotificationKind.OPENED, "disk")]
    assert at >= 60, "held for the hold's length"


class FakeChecks:
    def __init__(self, log: list[str], plan_hosts: list[tuple[int, Host]]) -> None:
        self.log = log
        self.plan_hosts = plan_hosts
        self.stopped = asyncio.Event()

    def prepare(self, copy: Engine) -> TakeoverPlan:
        self.log.append("prepare")
        return choose_hosts(self.plan_hosts, lambda ref: False, agent=True)

    async def run(self) -> None:
        self.log.append("run")
        await self.stopped.wait()
        self.log.append("stopped")

    def stop(self) -> None:
        self.stopped.set()

    def handed_back(self) -> list[HandedBack]:
        self.log.append("handed_back")
        return [_handed(START)]

    def close(self) -> None:
        self.log.append("close")


async def _run_for(clock: FakeClock, seconds: int) -> None:
    """Virtual time, with real pauses for the work done in threads."""
    for _ in range(seconds):
        await clock.advance(1)
        await asyncio.sleep(0.02)


async def test_the_supervisor_takes_over_then_stops_before_handing_back(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    log: list[str] = []
    sent: list[list[HandedBack]] = []
    failures = [RuntimeError("node not ready")]
    enabled = [False]

    async def hand_back(items: list[HandedBack]) -> None:
        if failures:
            raise failures.pop()
        log.append("hand_back")
        sent.append(items)

    seen = Recording()
    supervisor = TakeoverSupervisor(
        node="root@node",
        copy=open_database(tmp_path / "copy.sqlite3"),
        checks=lambda: FakeChecks(log, [(1, AGENT), (3, NODE_KEY)]),
        enabled=lambda: enabled[0],
        hand_back=hand_back,
        clock=clock,
        notifiers=[seen],
    )
    status = FollowerStatus()
    task = asyncio.ensure_future(supervisor.run(status))
    status.silent_since = START
    await _run_for(clock, 3)
    assert log == [], "taking over is off"
    enabled[0] = True
    await _run_for(clock, 3)
    assert log == ["prepare", "run"]
    assert [n.title for n in seen.shown] == [
        "the node is silent: this computer checks 1 of 2 servers until it is back"
    ]
    status.silent_since = None
    await _run_for(clock, 2)
    await _run_for(clock, 10)
    assert log == ["prepare", "run", "stopped", "handed_back", "hand_back"]
    assert sent == [[_handed(START)]]
    assert seen.shown[-1].title.startswith("the node is back: it runs the checks again")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert log[-1] == "close"


async def test_a_refused_hand_back_is_given_up_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(START)
    log: list[str] = []
    calls: list[int] = []

    async def hand_back(items: list[HandedBack]) -> None:
        calls.append(len(items))
        request = httpx.Request("POST", "http://node/api/v1/sync/handback")
        raise httpx.HTTPStatusError("403", request=request, response=httpx.Response(403))

    supervisor = TakeoverSupervisor(
        node="root@node",
        copy=open_database(tmp_path / "copy.sqlite3"),
        checks=lambda: FakeChecks(log, [(1, AGENT)]),
        enabled=lambda: True,
        hand_back=hand_back,
        clock=clock,
    )
    status = FollowerStatus(silent_since=START)
    task = asyncio.ensure_future(supervisor.run(status))
    await _run_for(clock, 3)
    status.silent_since = None
    with caplog.at_level("WARNING"):
        await _run_for(clock, 20)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert calls == [1], "given up, not retried"
    assert any("refused the hand-back" in r.getMessage() for r in caplog.records)


async def test_an_incident_the_desktop_resolved_is_forgotten_and_a_new_one_kept(
    node: Engine,
) -> None:
    host_id = HostRepository(node).add(HOST)
    with node.begin() as conn:
        conn.execute(
            insert(incidents).values(
                host_id=host_id, kind="disk", subject="/", container_id="", container_name="",
                severity="warning", opened_at=START - 600, message="disk / 97%",
                last_notified_at=START - 600,
            )
        )  # fmt: skip
    clock = FakeClock(START)
    seen = Recording()
    manager = AlertManager(node, clock, _inline, [seen])
    manager.track_host(host_id, HOST)
    await manager.start()
    item = _handed(
        START - 600, START - 60, host_id=host_id, rule="disk", subject="/",
        resolve_notified=True,
    )  # fmt: skip
    assert apply_handback(node, [item]).resolved == 1
    for _ in range(12):  # past a refresh, the disk still full
        manager.observe(
            host_id, CheckResult("web1", int(clock.now()), HostState.OK, None, "", metrics(97))
        )
        clock.t += 2
        await manager.step()
    assert seen.kinds() == [(NotificationKind.OPENED, "disk")], "a new spell, told once"
    rows = IncidentRepository(node).list()
    assert sorted((r.opened_at > START, r.is_open) for r in rows) == [(False, False), (True, True)]

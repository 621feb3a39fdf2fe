from __future__ import annotations

from tests.gui.factories import record
from vpshealth.domain.health import HostState
from vpshealth.gui.tray_state import TrayKind, tray_state


def test_all_ok_is_ok_with_counts() -> None:
    state = tray_state([record(1, "web1", HostState.OK), record(2, "web2", HostState.OK)])
    assert state.kind is TrayKind.OK
    assert state.tooltip.splitlines() == ["VPS Health", "2 ok"]


def test_worst_state_wins_and_is_named() -> None:
    records = [
        record(1, "web1", HostState.OK),
        record(2, "db1", HostState.WARNING, "memory at 88% (limit 85%)"),
        record(3, "cache", HostState.UNREACHABLE, "cannot connect"),
        record(4, "web2", HostState.CRITICAL, "disk / at 97% (limit 95%)"),
    ]
    state = tray_state(records)
    assert state.kind is TrayKind.CRITICAL
    assert "1 critical, 1 unreachable, 1 warning, 1 ok" in state.tooltip
    assert "Worst: web2 — disk / at 97% (limit 95%)" in state.tooltip


def test_unreachable_beats_warning() -> None:
    records = [record(1, "a", HostState.WARNING), record(2, "b", HostState.UNREACHABLE)]
    assert tray_state(records).kind is TrayKind.UNREACHABLE


def test_disabled_hosts_do_not_count() -> None:
    records = [
        record(1, "a", HostState.OK),
        record(2, "old", HostState.CRITICAL, enabled=False),
    ]
    state = tray_state(records)
    assert state.kind is TrayKind.OK
    assert "old" not in state.tooltip


def test_unchecked_host_is_unknown() -> None:
    assert tray_state([record(1, "new", None)]).kind is TrayKind.UNKNOWN


def test_no_hosts() -> None:
    state = tray_state([])
    assert state.kind is TrayKind.UNKNOWN
    assert "No servers are being watched" in state.tooltip


def test_paused_wins_but_keeps_the_worst_problem_in_the_tooltip() -> None:
    records = [record(1, "web1", HostState.CRITICAL, "disk full")]
    state = tray_state(records, paused=True)
    assert state.kind is TrayKind.PAUSED
    assert "Checks are paused" in state.tooltip
    assert "web1 — disk full" in state.tooltip

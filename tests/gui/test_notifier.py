from __future__ import annotations

from PySide6.QtWidgets import QSystemTrayIcon

from tests.gui.factories import record
from vpshealth.domain.containers import Severity
from vpshealth.domain.health import HostState
from vpshealth.domain.notifications import NotificationKind
from vpshealth.gui.bridge import StateChange
from vpshealth.gui.fleet_query import FleetSnapshot
from vpshealth.gui.notifier import TrayNotifier, state_notifications

NOW = 1_800_000_000


def change(
    old: HostState, new: HostState, message: str = "disk / at 97% (limit 95%)"
) -> StateChange:
    return StateChange(record(7, "web1", new, message), old, new)


def test_a_host_getting_worse_is_notified_by_name() -> None:
    [n] = state_notifications([change(HostState.OK, HostState.CRITICAL)], FleetSnapshot(()), NOW)
    assert n.kind is NotificationKind.OPENED
    assert n.severity is Severity.CRITICAL
    assert n.host_name == "web1"
    assert n.title == "web1 is critical"
    assert "disk / at 97%" in n.message
    assert n.host_id == 7


def test_escalation_and_recovery() -> None:
    changes = [
        change(HostState.WARNING, HostState.UNREACHABLE, "cannot connect"),
    ]
    [escalated] = state_notifications(changes, FleetSnapshot(()), NOW)
    assert escalated.kind is NotificationKind.ESCALATED
    assert escalated.title == "web1 is unreachable"
    [resolved] = state_notifications(
        [change(HostState.CRITICAL, HostState.OK, "All good")], FleetSnapshot(()), NOW
    )
    assert resolved.kind is NotificationKind.RESOLVED
    assert resolved.title == "web1 is OK again"


def test_better_but_not_ok_and_first_check_ok_are_quiet() -> None:
    changes = [
        change(HostState.CRITICAL, HostState.WARNING),
        change(HostState.UNKNOWN, HostState.OK),
    ]
    assert state_notifications(changes, FleetSnapshot(()), NOW) == []


def test_snooze_silences_everything() -> None:
    snoozed = FleetSnapshot((), snoozed_until=NOW + 60)
    assert state_notifications([change(HostState.OK, HostState.CRITICAL)], snoozed, NOW) == []
    expired = FleetSnapshot((), snoozed_until=NOW - 1)
    assert len(state_notifications([change(HostState.OK, HostState.CRITICAL)], expired, NOW)) == 1


def test_minimum_severity_critical_drops_warnings() -> None:
    snapshot = FleetSnapshot((), desktop_min_severity=Severity.CRITICAL)
    assert state_notifications([change(HostState.OK, HostState.WARNING)], snapshot, NOW) == []
    assert len(state_notifications([change(HostState.OK, HostState.CRITICAL)], snapshot, NOW)) == 1


def test_tray_notifier_shows_and_clicking_opens_the_host(qapp: object) -> None:
    tray = QSystemTrayIcon()
    opened: list[str] = []
    notifier = TrayNotifier(tray, opened.append)
    notifications = state_notifications(
        [change(HostState.OK, HostState.CRITICAL)], FleetSnapshot(()), NOW
    )
    notifier.notify(notifications)
    assert [n.title for n in notifier.shown] == ["web1 is critical"]
    tray.messageClicked.emit()
    assert opened == ["web1"]

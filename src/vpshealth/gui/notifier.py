"""Desktop notifications through the tray icon (D-Bus org.freedesktop.Notifications on Linux),
and the host state alerts the desktop app raises itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from PySide6.QtWidgets import QSystemTrayIcon

from vpshealth.domain.containers import Severity
from vpshealth.domain.health import HostState
from vpshealth.domain.notifications import Notification, NotificationKind, at_least
from vpshealth.gui.bridge import StateChange
from vpshealth.gui.fleet_query import FleetSnapshot
from vpshealth.gui.freedesktop_notifications import FreedesktopNotifications
from vpshealth.gui.tray_state import STATE_LABELS

log = logging.getLogger(__name__)

MESSAGE_MS = 10_000

_SEVERITY_OF_STATE = {
    HostState.WARNING: Severity.WARNING,
    HostState.UNREACHABLE: Severity.CRITICAL,
    HostState.CRITICAL: Severity.CRITICAL,
}


class TrayNotifier:
    """A ``Notifier``: shows each notification through the desktop's notification service
    (``freedesktop``, when there is one) or as a tray message. Clicking a notification calls
    ``on_open_host`` with the host it named."""

    def __init__(
        self,
        tray: QSystemTrayIcon,
        on_open_host: Callable[[str], None],
        freedesktop: FreedesktopNotifications | None = None,
        spawn: Callable[[Coroutine[Any, Any, Any], str], object] | None = None,
    ) -> None:
        self._tray = tray
        self._last_host: str | None = None
        self._hosts_by_id: dict[int, str] = {}
        self.shown: list[Notification] = []
        tray.messageClicked.connect(self._clicked)
        self._on_open_host = on_open_host
        self._freedesktop = freedesktop
        self._spawn = spawn

    def clicked(self, notification_id: int) -> None:
        """A click on a notification sent through the notification service."""
        host = self._hosts_by_id.get(notification_id)
        if host is not None:
            self._on_open_host(host)

    async def _send(self, notification: Notification) -> None:
        assert self._freedesktop is not None
        urgency = (
            "critical"
            if notification.severity is Severity.CRITICAL
            and notification.kind is not NotificationKind.RESOLVED
            else "normal"
        )
        sent = await self._freedesktop.send(notification.title, notification.message, urgency)
        if sent is None:
            self._show_in_tray(notification)
        else:
            self._hosts_by_id[sent] = notification.host_name

    def notify(self, notifications: Sequence[Notification]) -> None:
        for notification in notifications:
            log.info("Desktop notification: %s — %s", notification.title, notification.message)
            self.shown.append(notification)
            del self.shown[:-50]
            if self._freedesktop is not None and self._freedesktop.available and self._spawn:
                self._spawn(self._send(notification), "Showing a notification")
            else:
                self._show_in_tray(notification)

    def _show_in_tray(self, notification: Notification) -> None:
        icon = (
            QSystemTrayIcon.MessageIcon.Critical
            if notification.severity is Severity.CRITICAL
            and notification.kind is not NotificationKind.RESOLVED
            else QSystemTrayIcon.MessageIcon.Information
            if notification.kind is NotificationKind.RESOLVED
            else QSystemTrayIcon.MessageIcon.Warning
        )
        self._tray.showMessage(notification.title, notification.message, icon, MESSAGE_MS)
        self._last_host = notification.host_name

    def _clicked(self) -> None:
        if self._last_host is not None:
            self._on_open_host(self._last_host)


def state_notifications(
    changes: Sequence[StateChange], snapshot: FleetSnapshot, now: int | None = None
) -> list[Notification]:
    """A notification for each host that got worse, and for each that recovered from a state
    worth a notification; none while notifications are snoozed, none below the desktop's
    minimum severity."""
    at = int(time.time()) if now is None else now
    if snapshot.snoozed_until is not None and snapshot.snoozed_until > at:
        return []
    result = []
    for change in changes:
        record = change.record
        status = record.status
        if status is None or not record.host.enabled:
            continue
        new_severity = _SEVERITY_OF_STATE.get(change.new)
        old_severity = _SEVERITY_OF_STATE.get(change.old)
        if new_severity is not None and change.new.severity > change.old.severity:
            if not at_least(new_severity, snapshot.desktop_min_severity):
                continue
            kind = NotificationKind.OPENED if old_severity is None else NotificationKind.ESCALATED
            title = f"{record.host.name} is {STATE_LABELS[change.new].lower()}"
            result.append(
                _notification(
                    change,
                    kind=kind,
                    severity=new_severity,
                    title=title,
                    message=status.message,
                    at=at,
                )
            )
        elif change.new is HostState.OK and old_severity is not None:
            if not at_least(old_severity, snapshot.desktop_min_severity):
                continue
            title = f"{record.host.name} is OK again"
            message = f"Was {STATE_LABELS[change.old].lower()}: back to normal."
            result.append(
                _notification(
                    change,
                    kind=NotificationKind.RESOLVED,
                    severity=old_severity,
                    title=title,
                    message=message,
                    at=at,
                )
            )
    return result


def _notification(
    change: StateChange,
    *,
    kind: NotificationKind,
    severity: Severity,
    title: str,
    message: str,
    at: int,
) -> Notification:
    record = change.record
    assert record.status is not None
    return Notification(
        kind=kind,
        severity=severity,
        host_name=record.host.name,
        host_address=record.host.display_address,
        rule="host_state",
        subject=record.host.name,
        title=title,
        message=f"{message} ({record.host.display_address})",
        since=record.status.since,
        at=at,
        host_id=record.id,
    )

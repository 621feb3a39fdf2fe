"""The desktop's ``Notifier``: the alerting's notifications on the screen."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from PySide6.QtWidgets import QSystemTrayIcon

from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.gui.freedesktop_notifications import FreedesktopNotifications

log = logging.getLogger(__name__)

MESSAGE_MS = 10_000


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
        sent = await self._freedesktop.send(notification.summary, notification.message, urgency)
        if sent is None:
            self._show_in_tray(notification)
        else:
            self._hosts_by_id[sent] = notification.host_name

    def notify(self, notifications: Sequence[Notification]) -> None:
        for notification in notifications:
            log.info("Desktop notification: %s — %s", notification.summary, notification.message)
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
        self._tray.showMessage(notification.summary, notification.message, icon, MESSAGE_MS)
        self._last_host = notification.host_name

    def _clicked(self) -> None:
        if self._last_host is not None:
            self._on_open_host(self._last_host)

"""Desktop notifications over D-Bus (org.freedesktop.Notifications), with a click opening the
host. Qt's own QSystemTrayIcon.showMessage only uses D-Bus when the tray is a
StatusNotifierItem host; with an XEmbed tray (trayer, many X11 panels) it draws a balloon
instead, which notification daemons, their history and do-not-disturb never see.

Each notification names the app's icon and, in the ``desktop-entry`` hint, its desktop file:
GNOME and KDE take the icon, the app's name and its notification settings from that file."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    DBusErrorResponse,
    MatchRule,
    message_bus,
    new_method_call,
)
from jeepney.io.asyncio import DBusRouter, open_dbus_router  # type: ignore[import-untyped]
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]

from vpshealth import APP_ID

log = logging.getLogger(__name__)

NOTIFICATIONS = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)
APP_NAME = "VPS Health"
URGENCY = {"low": 0, "normal": 1, "critical": 2}
TIMEOUT_MS = 10_000
DEFAULT_ACTION = "default"


def notify_hints(urgency: str) -> dict[str, tuple[str, Any]]:
    """The ``a{sv}`` hints of a Notify call: D-Bus signature and value of each."""
    return {"urgency": ("y", URGENCY[urgency]), "desktop-entry": ("s", APP_ID)}


class FreedesktopNotifications:
    """Owns one session-bus connection on the asyncio loop while ``run`` runs. ``app_icon``:
    an icon theme's name or a ``file://`` URI, as the specification allows."""

    def __init__(self, on_clicked: Callable[[int], None], app_icon: str = "") -> None:
        self._on_clicked = on_clicked
        self.app_icon = app_icon
        self._router: DBusRouter | None = None
        self._ready = asyncio.Event()

    @property
    def available(self) -> bool:
        return self._router is not None

    async def run(self) -> None:
        """Connect, and deliver clicks until cancelled. Returns at once without a session bus
        or notification service (callers then fall back to the tray's own messages)."""
        try:
            async with open_dbus_router(bus="SESSION") as router:
                reply = await router.send_and_get_reply(
                    message_bus.NameHasOwner(NOTIFICATIONS.bus_name)
                )
                if not reply.body[0]:
                    log.info("No notification service on the session bus; using the tray")
                    return
                rule = MatchRule(
                    type="signal",
                    interface=NOTIFICATIONS.interface,
                    member="ActionInvoked",
                    path=NOTIFICATIONS.object_path,
                )
                await router.send_and_get_reply(message_bus.AddMatch(rule))
                with router.filter(rule) as queue:
                    self._router = router
                    self._ready.set()
                    try:
                        while True:
                            signal = await queue.get()
                            notification_id, action = signal.body
                            if action == DEFAULT_ACTION:
                                self._on_clicked(int(notification_id))
                    finally:
                        self._router = None
        except (OSError, KeyError, ValueError) as exc:
            log.info("No D-Bus session for notifications (%s); using the tray", exc)
        finally:
            self._ready.set()

    async def wait_ready(self) -> bool:
        await self._ready.wait()
        return self.available

    async def send(self, summary: str, body: str, urgency: str) -> int | None:
        router = self._router
        if router is None:
            return None
        message = new_method_call(
            NOTIFICATIONS,
            "Notify",
            "susssasa{sv}i",
            (
                APP_NAME,
                0,
                self.app_icon,
                summary,
                body,
                [DEFAULT_ACTION, "Open"],
                notify_hints(urgency),
                TIMEOUT_MS,
            ),
        )
        try:
            reply = unwrap_msg(await router.send_and_get_reply(message))
        except DBusErrorResponse as exc:
            log.warning("The notification service refused a notification: %s", exc)
            return None
        return int(reply[0])

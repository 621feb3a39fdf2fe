from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.factories import add, ssh_host
from vpshealth.app import Core
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.gui.app_icon import notification_icon
from vpshealth.gui.bridge import FleetWatcher
from vpshealth.gui.context import GuiContext
from vpshealth.gui.freedesktop_notifications import FreedesktopNotifications, notify_hints
from vpshealth.gui.notifier import TrayNotifier
from vpshealth.store.schema import notifications

NOW = 1_800_000_000


def _notification(host: str = "web1", severity: Severity = Severity.CRITICAL) -> Notification:
    return Notification(
        kind=NotificationKind.OPENED,
        severity=severity,
        host_name=host,
        host_address="203.0.113.10",
        rule="unreachable",
        subject="",
        title="not answering",
        message="no answer for 3 checks",
        since=NOW,
        at=NOW,
    )


def test_tray_messages_and_a_click_opens_the_host(qapp: object) -> None:
    tray = QSystemTrayIcon()
    opened: list[str] = []
    notifier = TrayNotifier(tray, opened.append)
    notifier.notify([_notification()])
    assert [n.summary for n in notifier.shown] == ["web1: not answering"]
    tray.messageClicked.emit()
    assert opened == ["web1"]


class _Service(FreedesktopNotifications):
    """The notification service's side of the protocol, recorded (the real one is dunst in
    the end-to-end test)."""

    def __init__(self) -> None:
        super().__init__(lambda _id: None)
        self.sent: list[tuple[str, str, str]] = []

    @property
    def available(self) -> bool:
        return True

    async def send(self, summary: str, body: str, urgency: str) -> int | None:
        self.sent.append((summary, body, urgency))
        return 41 + len(self.sent)


def test_freedesktop_notifications_and_clicks(ctx: GuiContext, loop: Loop, qapp: object) -> None:
    service = _Service()
    opened: list[str] = []
    notifier = TrayNotifier(QSystemTrayIcon(), opened.append, service, ctx.tasks.spawn)
    notifier.notify([_notification("web1"), _notification("db1", Severity.WARNING)])
    loop.run(ctx.tasks.wait_idle())
    assert service.sent == [
        ("web1: not answering", "no answer for 3 checks", "critical"),
        ("db1: not answering", "no answer for 3 checks", "normal"),
    ]
    notifier.clicked(43)
    notifier.clicked(99)  # not ours
    assert opened == ["db1"]


def test_watcher_follows_notifications_stored_by_another_process(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    host_id = add(core, ssh_host("web1"))

    def store(n: Notification) -> None:
        with core.engine.begin() as conn:
            conn.execute(
                notifications.insert().values(
                    host_id=host_id,
                    kind=n.kind.value,
                    severity=n.severity.value,
                    created_at=n.at,
                    payload=json.dumps(n.to_json()),
                )
            )

    store(_notification("old"))
    watcher = FleetWatcher(core.read_model, ctx.tasks)
    arrived: list[list[Notification]] = []
    watcher.notifications_arrived.connect(arrived.append)
    loop.run(watcher.refresh_now())
    assert arrived == []  # what was there before the app started is not shown again
    store(_notification("web1"))
    loop.run(watcher.refresh_now())
    assert [[n.summary for n in batch] for batch in arrived] == [["web1: not answering"]]


def test_notifications_name_the_app_icon_and_desktop_entry(qapp: object) -> None:
    """What the Notify call carries (dunst sees it in the end-to-end test)."""
    assert notify_hints("critical") == {
        "urgency": ("y", 2),
        "desktop-entry": ("s", "io.vpshealth.VPSHealth"),
    }
    icon = notification_icon()
    if icon != "io.vpshealth.VPSHealth":  # the icon theme has it when a package installed it
        assert icon.startswith("file://")
        svg = Path(urllib.parse.urlparse(icon).path)
        assert svg.name == "io.vpshealth.VPSHealth.svg"
        assert svg.read_text().lstrip().startswith("<?xml")

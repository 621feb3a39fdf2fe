"""The desktop app's controller: wires the tray, the window, the bridge and the engine."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, Notifier, at_least
from vpshealth.gui.app_icon import notification_icon
from vpshealth.gui.bridge import FleetWatcher, StateChange
from vpshealth.gui.context import GuiContext
from vpshealth.gui.engine_owner import EngineMode, EngineOwner
from vpshealth.gui.freedesktop_notifications import FreedesktopNotifications
from vpshealth.gui.hetzner_import import HetznerImportDialog
from vpshealth.gui.host_editor import HostEditor
from vpshealth.gui.main_window import MainWindow
from vpshealth.gui.notifier import TrayNotifier
from vpshealth.gui.settings_dialog import SettingsDialog
from vpshealth.gui.settings_values import DEFAULT_INTERVAL_KEY
from vpshealth.gui.snooze import SNOOZE_REASON, tomorrow_morning
from vpshealth.gui.tray import SNOOZE_END, SNOOZE_HOUR, TrayController
from vpshealth.read_model.fleet import FleetSnapshot
from vpshealth.sync.follower import FollowerStatus

log = logging.getLogger(__name__)

NO_TRAY_NOTICE = (
    "No system tray was found, so VPS Health runs as a normal window; closing it quits the app."
)


class DesktopApp(QObject):
    finished = Signal()

    def __init__(self, ctx: GuiContext, *, tray_available: bool) -> None:
        super().__init__()
        self.ctx = ctx
        self.tray_available = tray_available
        self.tray = TrayController(self)
        self.window = MainWindow(ctx)
        self.window.keep_running_in_tray = tray_available
        self.freedesktop = FreedesktopNotifications(
            self._notification_clicked, app_icon=notification_icon()
        )
        self.notifier = TrayNotifier(
            self.tray.icon, self.window.open_host_named, self.freedesktop, ctx.tasks.spawn
        )
        notifiers: list[Notifier] = [self.notifier]
        node_notifiers: list[Notifier] = [AtLeast(self.notifier, self._desktop_minimum)]
        self.engine = EngineOwner(
            ctx.core, notifiers, ctx.tasks, self, node_notifiers=node_notifiers
        )
        self.watcher = FleetWatcher(ctx.core.read_model, ctx.tasks, self, now=ctx.now)
        self._dialogs: set[QObject] = set()
        self._quitting = False
        self._copy_hosts_logged: int | None = None
        self._freedesktop_task: asyncio.Task[None] | None = None

        self.watcher.snapshot_changed.connect(self._snapshot_changed)
        self.watcher.states_changed.connect(self._states_changed)
        self.watcher.notifications_arrived.connect(self._notifications_arrived)
        self.engine.mode_changed.connect(self._mode_changed)
        self.engine.paused_changed.connect(self._paused_changed)
        self.engine.service_ended.connect(self.quit)
        self.engine.node_status_changed.connect(self._node_status_changed)
        self.engine.copy_synced.connect(self.watcher.refresh)
        ctx.tasks.failed.connect(self.window.show_error)

        self.tray.open_dashboard.connect(self.show_dashboard)
        self.tray.open_host.connect(self.window.open_host)
        self.tray.check_all_now.connect(self.engine.check_all_now)
        self.tray.pause.connect(self.engine.set_paused)
        self.tray.snooze.connect(self.snooze)
        self.tray.open_settings.connect(self.open_settings)
        self.tray.quit_requested.connect(self.quit)

        self.window.add_requested.connect(lambda: self.open_editor(None))
        self.window.edit_requested.connect(self.open_editor)
        self.window.check_all_requested.connect(self.engine.check_all_now)
        self.window.pause_requested.connect(self.engine.set_paused)
        self.window.settings_requested.connect(self.open_settings)
        self.window.hetzner_requested.connect(self.open_hetzner_import)
        self.window.quit_requested.connect(self.quit)

    def _notification_clicked(self, notification_id: int) -> None:
        self.notifier.clicked(notification_id)

    def start(self, *, show_window: bool, desktop_notifications: bool = True) -> None:
        if desktop_notifications:
            self._freedesktop_task = self.ctx.tasks.spawn(
                self.freedesktop.run(), "Connecting to the notification service"
            )
        mode = self.engine.start()
        self._mode_changed(mode.value)
        self.watcher.start()
        if self.tray_available:
            self.tray.show()
        else:
            self.window.set_notice(NO_TRAY_NOTICE)
            log.warning(NO_TRAY_NOTICE)
        if show_window or not self.tray_available:
            self.show_dashboard()

    def show_dashboard(self) -> None:
        self.window.show_overview()
        self.window.bring_to_front()

    def _snapshot_changed(self, snapshot: FleetSnapshot) -> None:
        self.tray.set_snapshot(snapshot)
        self.window.set_snapshot(snapshot)
        shown = len(snapshot.records)
        if self.engine.mode is EngineMode.NODE and shown != self._copy_hosts_logged:
            self._copy_hosts_logged = shown
            log.info("Showing the copy of %s: %d servers", self.engine.node_name, shown)

    def _states_changed(self, changes: list[StateChange]) -> None:
        for change in changes:
            log.info("%s: %s -> %s", change.record.host.name, change.old, change.new)

    def _desktop_minimum(self) -> Severity:
        snapshot = self.watcher.snapshot
        return Severity.WARNING if snapshot is None else snapshot.desktop_min_severity

    def _notifications_arrived(self, notifications: list[Notification]) -> None:
        """When this app runs the checks, the alerting hands it its notifications directly;
        when the background service does, they arrive here from the database."""
        snapshot = self.watcher.snapshot
        if self.engine.mode is not EngineMode.VIEWER or snapshot is None:
            return
        shown = [n for n in notifications if at_least(n.severity, snapshot.desktop_min_severity)]
        if shown:
            self.notifier.notify(shown)

    def _mode_changed(self, mode: str) -> None:
        engine_mode = EngineMode(mode)
        self.tray.set_mode(engine_mode, self.engine.text)
        self.window.set_mode(engine_mode, self.engine.text)
        if engine_mode is EngineMode.VIEWER:
            log.info(self.engine.text)

    def _node_status_changed(self, status: FollowerStatus) -> None:
        self.tray.set_node_status(status)
        self.window.set_node_status(status)

    def switch_engine(self) -> asyncio.Task[None]:
        """The link to a node changed: run the checks (or follow the node) as it says now,
        and show what is read from there."""
        return self.ctx.tasks.spawn(self._switch_engine(), "Switching who runs the checks")

    async def _switch_engine(self) -> None:
        await self.engine.restart()
        self._copy_hosts_logged = None
        self.watcher.set_read_model(self.ctx.core.read_model)
        await self.watcher.refresh_now()
        if self.window.stack.currentWidget() is self.window.detail:
            self.window.show_overview()

    def _paused_changed(self, paused: bool) -> None:
        self.tray.set_paused(paused)
        self.window.set_paused(paused)

    def snooze(self, how: str) -> None:
        self.ctx.tasks.spawn(self._snooze(how), "Snoozing notifications")

    async def _snooze(self, how: str) -> None:
        silences = self.ctx.core.operations.silences
        if how == SNOOZE_END:
            await self.ctx.read(functools.partial(silences.end_snooze, None))
        elif how == SNOOZE_HOUR:
            await self.ctx.read(functools.partial(silences.snooze, None, 3600, SNOOZE_REASON))
        else:
            until = tomorrow_morning(self.ctx.now())
            await self.ctx.read(
                functools.partial(silences.snooze_until, None, until, SNOOZE_REASON)
            )
        await self.watcher.refresh_now()

    def open_editor(self, host_id: int | None) -> None:
        self.ctx.tasks.spawn(self._open_editor(host_id), "Opening the server editor")

    async def _open_editor(self, host_id: int | None) -> None:
        snapshot = self.watcher.snapshot or FleetSnapshot(())
        record = snapshot.record(host_id) if host_id is not None else None
        repo = self.ctx.core.stored_settings
        interval = await self.ctx.read(functools.partial(repo.get, DEFAULT_INTERVAL_KEY, 15))
        editor = HostEditor(
            self.ctx,
            record,
            taken_names={r.host.name for r in snapshot.records},
            default_interval=int(interval),
            parent=self.window,
        )
        editor.saved.connect(lambda _name: self.watcher.refresh())
        editor.removed.connect(lambda _name: self._host_removed())
        self._keep(editor)
        editor.open()

    def _host_removed(self) -> None:
        self.window.show_overview()
        self.watcher.refresh()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.ctx, self.engine.text, parent=self.window)
        dialog.checks_moved.connect(self.switch_engine)
        self._keep(dialog)
        self.ctx.tasks.spawn(dialog.load(), "Reading the settings")
        dialog.open()

    def open_hetzner_import(self) -> None:
        dialog = HetznerImportDialog(self.ctx, parent=self.window)
        dialog.imported.connect(self.watcher.refresh)
        self._keep(dialog)
        self.ctx.tasks.spawn(dialog.load(), "Reading the Hetzner Cloud projects")
        dialog.open()

    def _keep(self, dialog: QObject) -> None:
        self._dialogs.add(dialog)
        dialog.destroyed.connect(lambda: self._dialogs.discard(dialog))
        if hasattr(dialog, "finished"):
            dialog.finished.connect(dialog.deleteLater)

    def quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        self.ctx.tasks.spawn(self.shutdown(), "Stopping")

    async def shutdown(self) -> None:
        self.watcher.stop()
        await self.engine.stop()
        if self._freedesktop_task is not None:
            self._freedesktop_task.cancel()
            await asyncio.gather(self._freedesktop_task, return_exceptions=True)
        self.tray.hide()
        self.window.hide()
        self.finished.emit()


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


class AtLeast:
    """The node's notifications from a certain severity on, as this app shows the service's."""

    def __init__(self, shown_by: Notifier, minimum: Callable[[], Severity]) -> None:
        self._shown_by = shown_by
        self._minimum = minimum

    def notify(self, notifications: Sequence[Notification]) -> None:
        minimum = self._minimum()
        shown = [n for n in notifications if at_least(n.severity, minimum)]
        if shown:
            self._shown_by.notify(shown)

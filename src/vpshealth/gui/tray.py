"""The tray icon: the fleet's worst state at a glance, and a menu rebuilt each time it opens."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from vpshealth.gui import formatting
from vpshealth.gui.colours import Scheme
from vpshealth.gui.engine_owner import MODE_TEXT, EngineMode
from vpshealth.gui.node_state import node_tray_line
from vpshealth.gui.overview_model import state_label
from vpshealth.gui.theme import system_scheme
from vpshealth.gui.tray_icons import tray_icon
from vpshealth.gui.tray_state import TrayKind, TrayState, state_of, tray_state
from vpshealth.read_model.fleet import FleetSnapshot
from vpshealth.store.host_repository import HostRecord
from vpshealth.sync.follower import FollowerStatus

SNOOZE_HOUR = "hour"
SNOOZE_TOMORROW = "tomorrow"
SNOOZE_END = "end"


class TrayController(QObject):
    open_dashboard = Signal()
    open_host = Signal(int)
    check_all_now = Signal()
    snooze = Signal(str)
    pause = Signal(bool)
    open_settings = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(parent)
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self._icons: dict[tuple[Scheme, TrayKind], QIcon] = {}
        self._snapshot = FleetSnapshot(())
        self._mode = EngineMode.STOPPED
        self._mode_text = MODE_TEXT[self._mode]
        self._node_status: FollowerStatus | None = None
        self._paused = False
        self.state = TrayState(TrayKind.UNKNOWN, "VPS Health")
        self._apply()
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._apply)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_snapshot(self, snapshot: FleetSnapshot) -> None:
        self._snapshot = snapshot
        self._apply()

    def set_mode(self, mode: EngineMode, text: str | None = None) -> None:
        self._mode = mode
        self._mode_text = text or MODE_TEXT[mode]
        if mode is not EngineMode.NODE:
            self._node_status = None
        self._apply()

    def set_node_status(self, status: FollowerStatus | None) -> None:
        """The linked node's follower: connected, catching up, or silent since when."""
        self._node_status = status
        self._apply()

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self._apply()

    def _apply(self) -> None:
        state = tray_state(self._snapshot.records, paused=self._paused)
        tooltip, kind = state.tooltip, state.kind
        node = self._node_status
        if node is not None:
            tooltip += "\n" + node_tray_line(
                node, time.time(), lambda ts: formatting.local_time(int(ts))
            )
            if node.silent_since is not None:
                kind = TrayKind.UNREACHABLE  # what is shown may be old: the node is silent
        if self._snapshot.snoozed_until:
            until = formatting.local_time(self._snapshot.snoozed_until)
            tooltip += f"\nNotifications snoozed until {until}"
        self.state = TrayState(kind, tooltip)
        self.icon.setIcon(self._icon_of(kind))
        self.icon.setToolTip(tooltip)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_dashboard.emit()

    def rebuild_menu(self) -> None:
        menu = self.menu
        menu.clear()
        records = sorted(self._snapshot.records, key=lambda r: (-state_of(r).severity, r.host.name))
        for record in records[:25]:
            action = menu.addAction(f"{record.host.name} — {state_label(record)}")
            action.setIcon(self._icon_for(record))
            action.triggered.connect(lambda _=False, i=record.id: self.open_host.emit(i))
        if len(records) > 25:
            more = menu.addAction(f"{len(records) - 25} more servers in the dashboard…")
            more.triggered.connect(self.open_dashboard)
        if not records:
            menu.addAction("No servers yet").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Open dashboard").triggered.connect(self.open_dashboard)
        owner = self._mode is EngineMode.OWNER
        check = menu.addAction("Check all now")
        check.triggered.connect(self.check_all_now)
        check.setEnabled(owner and not self._paused)
        snooze = menu.addMenu("Snooze notifications")
        snooze.addAction("For 1 hour").triggered.connect(lambda: self.snooze.emit(SNOOZE_HOUR))
        snooze.addAction("Until tomorrow morning").triggered.connect(
            lambda: self.snooze.emit(SNOOZE_TOMORROW)
        )
        if self._snapshot.snoozed_until:
            snooze.addSeparator()
            until = formatting.local_time(self._snapshot.snoozed_until)
            snooze.addAction(f"Resume notifications (snoozed until {until})").triggered.connect(
                lambda: self.snooze.emit(SNOOZE_END)
            )
        pause = menu.addAction("Pause checks")
        pause.setCheckable(True)
        pause.setChecked(self._paused)
        pause.setEnabled(owner)
        if not owner:
            pause.setToolTip(self._mode_text)
        pause.toggled.connect(self.pause)
        menu.addSeparator()
        menu.addAction("Settings…").triggered.connect(self.open_settings)
        menu.addAction("Quit VPS Health").triggered.connect(self.quit_requested)

    def _icon_for(self, record: HostRecord) -> QIcon:
        kind = TrayKind(state_of(record).value) if record.host.enabled else TrayKind.PAUSED
        return self._icon_of(kind)

    def _icon_of(self, kind: TrayKind) -> QIcon:
        key = (system_scheme(), kind)
        if key not in self._icons:
            self._icons[key] = tray_icon(kind, key[0])
        return self._icons[key]

    def action_texts(self) -> list[str]:
        """The menu as text (for tests and accessibility checks)."""
        texts = []
        for action in self.menu.actions():
            if action.isSeparator():
                texts.append("---")
            elif action.menu() is not None:
                sub = action.menu()
                assert isinstance(sub, QMenu)
                texts.append(
                    action.text()
                    + " > "
                    + " | ".join(a.text() for a in sub.actions() if not a.isSeparator())
                )
            else:
                texts.append(action.text())
        return texts


def action_named(menu: QMenu, text: str) -> QAction:
    for action in menu.actions():
        if action.text() == text:
            return action
    raise KeyError(text)

"""The dashboard window: every server at a glance, one server in detail, the incidents."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from vpshealth.gui import formatting
from vpshealth.gui.app_icon import window_icon
from vpshealth.gui.colours import Tone
from vpshealth.gui.context import GuiContext
from vpshealth.gui.engine_owner import MODE_TEXT, EngineMode
from vpshealth.gui.host_detail import HostDetail
from vpshealth.gui.incidents_view import IncidentsView
from vpshealth.gui.node_state import offline_banner
from vpshealth.gui.overview import OverviewView
from vpshealth.gui.theme import text_style
from vpshealth.read_model.fleet import FleetSnapshot
from vpshealth.sync.follower import FollowerStatus

BANNER_REFRESH_MS = 30_000
"""The banner's "last synced … ago" is written anew this often."""


class MainWindow(QMainWindow):
    add_requested = Signal()
    edit_requested = Signal(int)
    check_all_requested = Signal()
    pause_requested = Signal(bool)
    settings_requested = Signal()
    hetzner_requested = Signal()
    quit_requested = Signal()

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._snapshot = FleetSnapshot(())
        self._mode = EngineMode.STOPPED
        self._mode_text = MODE_TEXT[self._mode]
        self._node_status: FollowerStatus | None = None
        self._paused = False
        self._notice = ""
        self.keep_running_in_tray = True
        self.setWindowTitle("VPS Health")
        self.setWindowIcon(window_icon())
        self.resize(1180, 760)

        self.overview = OverviewView(self)
        self.incidents = IncidentsView(ctx, parent=self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.overview, "Servers")
        self.tabs.addTab(self.incidents, "Incidents")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.detail = HostDetail(ctx, self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.detail)
        self.banner = self._build_banner()
        self.setCentralWidget(self._banner_over(self.stack))

        toolbar = QToolBar("Actions", self)
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        self.add_action = QAction("Add server…", self)
        self.add_action.triggered.connect(self.add_requested)
        self.check_action = QAction("Check all now", self)
        self.check_action.triggered.connect(self.check_all_requested)
        self.pause_action = QAction("Pause checks", self)
        self.pause_action.setCheckable(True)
        self.pause_action.toggled.connect(self.pause_requested)
        self.settings_action = QAction("Settings…", self)
        self.settings_action.triggered.connect(self.settings_requested)
        self.hetzner_action = QAction("Import from Hetzner Cloud…", self)
        self.hetzner_action.triggered.connect(self.hetzner_requested)
        for action in (self.add_action, self.hetzner_action, self.check_action, self.pause_action):
            toolbar.addAction(action)
        toolbar.addAction(self.settings_action)

        self.mode_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.mode_label)

        self.overview.host_activated.connect(self.open_host)
        self.overview.add_requested.connect(self.add_requested)
        self.incidents.host_activated.connect(self.open_host)
        self.detail.back_requested.connect(self.show_overview)
        self.detail.edit_requested.connect(self.edit_requested)
        self._update_status()

    def _build_banner(self) -> QLabel:
        banner = QLabel(self)
        banner.setWordWrap(True)
        banner.setStyleSheet(text_style(Tone.WARNING) + "padding: 6px;")
        banner.hide()
        self._banner_timer = QTimer(self)
        self._banner_timer.setInterval(BANNER_REFRESH_MS)
        self._banner_timer.timeout.connect(self._update_banner)
        return banner

    def _banner_over(self, content: QWidget) -> QWidget:
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(content, 1)
        return central

    @property
    def snapshot(self) -> FleetSnapshot:
        return self._snapshot

    def set_snapshot(self, snapshot: FleetSnapshot) -> None:
        self._snapshot = snapshot
        self.overview.set_snapshot(snapshot)
        if self.stack.currentWidget() is self.detail:
            self.detail.update_from(snapshot)
        if self.tabs.currentWidget() is self.incidents or self.isVisible():
            self.incidents.reload()
        self._update_status()

    def set_mode(self, mode: EngineMode, text: str | None = None) -> None:
        """``text``: how to say it, when more than MODE_TEXT (the node's name)."""
        self._mode = mode
        self._mode_text = text or MODE_TEXT[mode]
        owner = mode is EngineMode.OWNER
        self.check_action.setEnabled(owner and not self._paused)
        self.pause_action.setEnabled(owner)
        if mode is not EngineMode.NODE:
            self.set_node_status(None)
        tip = "" if owner else self._mode_text
        self.check_action.setToolTip(tip or "Check every server right away")
        self.pause_action.setToolTip(tip or "Stop checking until you resume")
        self._update_status()

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(paused)
        self.pause_action.blockSignals(False)
        self.set_mode(self._mode, self._mode_text)

    def set_node_status(self, status: FollowerStatus | None) -> None:
        """The linked node's follower: the offline banner shows while it is not followed."""
        self._node_status = status
        self._update_banner()

    def _update_banner(self) -> None:
        text = offline_banner(self._node_status, self._ctx.now())
        self.banner.setText(text or "")
        self.banner.setVisible(text is not None)
        if text is None:
            self._banner_timer.stop()
        elif not self._banner_timer.isActive():
            self._banner_timer.start()

    def banner_text(self) -> str | None:
        return self.banner.text() if not self.banner.isHidden() else None

    def set_notice(self, text: str) -> None:
        """A lasting remark in the status bar (e.g. no system tray)."""
        self._notice = text
        self._update_status()

    def _update_status(self) -> None:
        parts = [self._mode_text]
        if self._paused:
            parts = ["Checks are paused"]
        if self._snapshot.snoozed_until:
            until = formatting.local_time(self._snapshot.snoozed_until)
            parts.append(f"notifications snoozed until {until}")
        if self._notice:
            parts.append(self._notice)
        self.mode_label.setText(" · ".join(parts))

    def status_text(self) -> str:
        return self.mode_label.text()

    def open_host(self, host_id: int) -> None:
        record = self._snapshot.record(host_id)
        if record is None:
            return
        self.detail.show_host(record)
        self.stack.setCurrentWidget(self.detail)
        self.detail.reload()
        self.bring_to_front()

    def open_host_named(self, name: str) -> None:
        record = next((r for r in self._snapshot.records if r.host.name == name), None)
        if record is not None:
            self.open_host(record.id)

    def show_overview(self) -> None:
        self.stack.setCurrentWidget(self.tabs)

    def bring_to_front(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~self.windowState().WindowMinimized)
        self.raise_()
        self.activateWindow()

    def show_error(self, what: str, error: str) -> None:
        self.statusBar().showMessage(f"{what} failed: {error}", 15_000)

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.incidents:
            self.incidents.reload()

    def closeEvent(self, event: QCloseEvent) -> None:
        # With a tray, closing the window keeps the app (and the checks) running there.
        event.ignore()
        if self.keep_running_in_tray:
            self.hide()
        else:
            self.quit_requested.emit()

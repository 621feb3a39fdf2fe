"""Open and recent incidents, with Acknowledge and Snooze, and the last log lines of the
selected container's crash."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vpshealth.gui import formatting
from vpshealth.gui.colours import Tone
from vpshealth.gui.context import GuiContext
from vpshealth.gui.snooze import SNOOZE_REASON
from vpshealth.gui.theme import text_colour
from vpshealth.operations.incidents import AckOutcome
from vpshealth.operations.node_edits import EditQueued
from vpshealth.store.incident_repository import IncidentRecord

COLUMNS = ("Severity", "Server", "What", "Opened", "Status")
SNOOZE_SECONDS = 3600


def status_text(incident: IncidentRecord, now: float) -> str:
    if not incident.is_open:
        assert incident.resolved_at is not None
        return f"Resolved {formatting.ago(incident.resolved_at, now)}"
    lasting = formatting.duration(now - incident.opened_at)
    if incident.acknowledged_at is not None:
        return f"Open for {lasting}, acknowledged"
    return f"Open for {lasting}"


def what_text(incident: IncidentRecord) -> str:
    return f"{incident.app}: {incident.message}" if incident.app else incident.message


class IncidentsView(QWidget):
    host_activated = Signal(int)
    changed = Signal()

    def __init__(
        self, ctx: GuiContext, host_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._host_id = host_id
        self._incidents: list[IncidentRecord] = []
        self._loaded = False
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        if host_id is not None:
            self.tree.hideColumn(1)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.acknowledge_button = QPushButton("Acknowledge", self)
        self.acknowledge_button.setToolTip(
            "You are on it: no more reminders about this incident until it is resolved."
        )
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        self.snooze_button = QPushButton("Snooze this server for 1 h", self)
        self.snooze_button.setToolTip("No notifications about this server for the next hour.")
        self.snooze_button.clicked.connect(self.snooze_selected)
        self.message = QLabel(self)
        self.log_title = QLabel(self)
        self.log_view = QPlainTextEdit(self)
        self.log_view.setReadOnly(True)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setMaximumHeight(220)
        buttons = QHBoxLayout()
        buttons.addWidget(self.acknowledge_button)
        buttons.addWidget(self.snooze_button)
        buttons.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.log_title)
        layout.addWidget(self.log_view)
        layout.addLayout(buttons)
        self._update_buttons()

    @property
    def incidents(self) -> list[IncidentRecord]:
        return list(self._incidents)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._loaded:
            self._loaded = False
            self.set_incidents(self._incidents)

    def reload(self) -> None:
        self._ctx.tasks.spawn(self.load(), "Reading the incidents")

    async def load(self) -> None:
        model = self._ctx.core.read_model
        incidents = await self._ctx.read(
            functools.partial(model.incidents, host_id=self._host_id, limit=200)
        )
        self.set_incidents(incidents)

    def set_incidents(self, incidents: Sequence[IncidentRecord]) -> None:
        selected = self.selected()
        ordered = sorted(incidents, key=lambda i: (not i.is_open, -i.opened_at))
        if self._loaded and [
            (i.id, i.resolved_at, i.acknowledged_at, i.log_lines) for i in ordered
        ] == [(i.id, i.resolved_at, i.acknowledged_at, i.log_lines) for i in self._incidents]:
            return
        self._loaded = True
        self._incidents = ordered
        self.tree.clear()
        now = self._ctx.now()
        for incident in ordered:
            item = QTreeWidgetItem(
                [
                    incident.severity.capitalize(),
                    incident.host_name,
                    what_text(incident),
                    formatting.local_time(incident.opened_at),
                    status_text(incident, now),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, incident.id)
            item.setToolTip(
                2,
                incident.message + ("\n\nSelect it to see its last log lines."
                                    if incident.log_lines else ""),
            )  # fmt: skip
            if incident.is_open:
                tone = Tone.CRITICAL if incident.severity == "critical" else Tone.WARNING
                item.setForeground(0, QBrush(text_colour(tone, self.palette())))
            else:
                for col in range(len(COLUMNS)):
                    item.setForeground(col, QBrush(text_colour(Tone.MUTED, self.palette())))
            self.tree.addTopLevelItem(item)
            if selected is not None and incident.id == selected.id:
                item.setSelected(True)
        if not ordered:
            self.tree.addTopLevelItem(QTreeWidgetItem(["", "", "No incidents. All quiet."]))
        self._update_buttons()

    def selected(self) -> IncidentRecord | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        incident_id = items[0].data(0, Qt.ItemDataRole.UserRole)
        return next((i for i in self._incidents if i.id == incident_id), None)

    def select_incident(self, incident_id: int) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == incident_id:
                self.tree.setCurrentItem(item)
                return

    def _update_buttons(self) -> None:
        incident = self.selected()
        self.acknowledge_button.setEnabled(
            incident is not None and incident.is_open and incident.acknowledged_at is None
        )
        self.snooze_button.setEnabled(incident is not None)
        self._show_log_lines(incident)

    def _show_log_lines(self, incident: IncidentRecord | None) -> None:
        lines = incident.log_lines if incident is not None else None
        self.log_title.setVisible(bool(lines))
        self.log_view.setVisible(bool(lines))
        if incident is None or not lines:
            self.log_view.clear()
            return
        who = incident.container_name or incident.subject
        self.log_title.setText(f"Last log lines of {who} before it failed:")
        if self.log_view.toPlainText() != lines:
            self.log_view.setPlainText(lines)

    def _double_clicked(self, item: QTreeWidgetItem) -> None:
        incident = self.selected()
        if incident is not None and self._host_id is None:
            self.host_activated.emit(incident.host_id)

    def acknowledge_selected(self) -> None:
        incident = self.selected()
        if incident is not None:
            self._ctx.tasks.spawn(self.acknowledge(incident.id), "Acknowledging the incident")

    async def acknowledge(self, incident_id: int) -> None:
        incidents = self._ctx.core.operations.incidents
        try:
            done = await self._ctx.read(functools.partial(incidents.acknowledge, [incident_id]))
        except EditQueued as exc:
            self.message.setText(str(exc))
            return
        acknowledged = done.results[0].outcome is AckOutcome.ACKNOWLEDGED
        self.message.setText(
            "Acknowledged."
            if acknowledged
            else "This incident was already resolved or acknowledged."
        )
        await self.load()
        self.changed.emit()

    def snooze_selected(self) -> None:
        incident = self.selected()
        if incident is not None:
            self._ctx.tasks.spawn(self.snooze_host(incident.host_name), "Snoozing the server")

    async def snooze_host(self, host_name: str) -> None:
        silences = self._ctx.core.operations.silences
        try:
            until_at = await self._ctx.read(
                functools.partial(silences.snooze, host_name, SNOOZE_SECONDS, SNOOZE_REASON)
            )
        except EditQueued as exc:
            self.message.setText(str(exc))
            return
        until = formatting.local_time(until_at)
        self.message.setText(f"No notifications about {host_name} until {until}.")
        self.changed.emit()

"""One host: state, charts, containers, incidents and the events timeline."""

from __future__ import annotations

import functools

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vpshealth.gui import formatting
from vpshealth.gui.chart_data import (
    CONTAINER_LAYOUT,
    CONTAINER_UNITS,
    ChartRange,
    HostCharts,
    load_container_charts,
    load_container_choices,
    load_host_charts,
)
from vpshealth.gui.charts import ChartsView
from vpshealth.gui.containers_view import ContainersView
from vpshealth.gui.context import GuiContext
from vpshealth.gui.incidents_view import IncidentsView
from vpshealth.gui.overview_model import fullest_disk, state_colour, state_label
from vpshealth.gui.tray_state import state_of
from vpshealth.read_model.container_series import ContainerChoice
from vpshealth.read_model.events import Event
from vpshealth.read_model.fleet import FleetSnapshot
from vpshealth.store.host_repository import HostRecord

EVENTS_DAYS = 30
THE_SERVER = "The server"

EVENT_TEXT = {
    "state_change": "State changed",
    "incident_opened": "Incident opened",
    "incident_resolved": "Incident resolved",
}


def summary_lines(record: HostRecord) -> list[str]:
    host, status = record.host, record.status
    lines = [host.display_address]
    if record.system_info is not None:
        info = record.system_info
        lines.append(f"{info.os_name} · kernel {info.kernel} · hostname {info.hostname}")
    if status is None:
        lines.append("Waiting for the first check.")
        return lines
    since = formatting.local_time(status.since)
    lines.append(f"{state_label(record)} since {since}: {status.message}")
    metrics = status.metrics
    if metrics is not None:
        cpu = "—" if metrics.cpu_percent is None else f"{metrics.cpu_percent:.0f}%"
        lines.append(
            f"CPU {cpu} of {metrics.cpu_count} · load {metrics.load.one:.2f} · memory "
            f"{formatting.human_bytes(metrics.memory.used_bytes)} of "
            f"{formatting.human_bytes(metrics.memory.total_bytes)} "
            f"({metrics.memory.percent:.0f}%) · up {formatting.duration(metrics.uptime_seconds)}"
        )
        disk = fullest_disk(record)
        if disk:
            lines.append(f"Fullest disk {disk}")
    lines.append(
        f"Checked {formatting.ago(status.checked_at)}, every {host.interval_seconds} s"
        + ("" if host.enabled else " (checks disabled for this server)")
    )
    return lines


class HostDetail(QWidget):
    edit_requested = Signal(int)
    back_requested = Signal()

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:  # noqa: PLR0915
        super().__init__(parent)
        self._ctx = ctx
        self._record: HostRecord | None = None
        self._range = ChartRange.HOUR
        self._loading = False
        self._load_again = False

        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.state = QLabel(self)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.back_button = QPushButton("← All servers", self)
        self.back_button.clicked.connect(self.back_requested)
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(self._edit)

        header = QHBoxLayout()
        header.addWidget(self.back_button)
        header.addWidget(self.title)
        header.addWidget(self.state)
        header.addStretch(1)
        header.addWidget(self.edit_button)

        self.range_buttons = QButtonGroup(self)
        ranges = QHBoxLayout()
        ranges.addWidget(QLabel("Show the last", self))
        for i, chart_range in enumerate(ChartRange):
            button = QPushButton(chart_range.label, self)
            button.setCheckable(True)
            button.setChecked(chart_range is self._range)
            self.range_buttons.addButton(button, i)
        for range_button in self.range_buttons.buttons():
            ranges.addWidget(range_button)
        ranges.addStretch(1)
        self.range_buttons.idClicked.connect(lambda i: self.set_range(list(ChartRange)[i]))

        self.chart_subject = QComboBox(self)
        self.chart_subject.setToolTip(
            "The server's charts, or CPU and memory of one app (across its deploys) or container"
        )
        self.chart_subject.addItem(THE_SERVER, None)
        self.chart_subject.currentIndexChanged.connect(lambda _: self.reload())
        ranges.insertWidget(0, QLabel("Charts of", self))
        ranges.insertWidget(1, self.chart_subject)

        self.charts = ChartsView(self)
        self.container_charts = ChartsView(self, CONTAINER_LAYOUT, CONTAINER_UNITS)
        self.chart_pages = QStackedWidget(self)
        self.chart_pages.addWidget(self.charts)
        self.chart_pages.addWidget(self.container_charts)
        charts_page = QWidget(self)
        charts_layout = QVBoxLayout(charts_page)
        charts_layout.addLayout(ranges)
        charts_layout.addWidget(self.chart_pages, 1)
        self.containers = ContainersView(self)
        self.incidents = IncidentsView(ctx, host_id=-1, parent=self)
        self.events = QTreeWidget(self)
        self.events.setHeaderLabels(["When", "What", "Details"])
        self.events.setRootIsDecorated(False)
        self.events.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.events.header().setStretchLastSection(True)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(charts_page, "Charts")
        self.tabs.addTab(self.containers, "Containers")
        self.tabs.addTab(self.incidents, "Incidents")
        self.tabs.addTab(self.events, "Events")

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.details)
        layout.addWidget(self.tabs, 1)

    @property
    def host_id(self) -> int | None:
        return self._record.id if self._record else None

    @property
    def chart_range(self) -> ChartRange:
        return self._range

    @property
    def chart_container(self) -> str | None:
        """The subject of the container series charted, None for the server's charts."""
        subject: str | None = self.chart_subject.currentData()
        return subject

    def show_container(self, subject: str | None) -> None:
        self.chart_subject.setCurrentIndex(max(self.chart_subject.findData(subject), 0))

    def show_host(self, record: HostRecord) -> None:
        changed_host = self._record is None or self._record.id != record.id
        if changed_host:
            self._set_choices([])
        self._record = record
        self.title.setText(record.host.name)
        self._show_state(record)
        self.details.setText("\n".join(summary_lines(record)))
        if changed_host:
            self.incidents.deleteLater()
            self.incidents = IncidentsView(self._ctx, host_id=record.id, parent=self)
            self.tabs.removeTab(2)
            self.tabs.insertTab(2, self.incidents, "Incidents")

    def _show_state(self, record: HostRecord) -> None:
        colour = state_colour(state_of(record), self.palette()).name()
        self.state.setText(f'<b style="color:{colour}">{state_label(record)}</b>')

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._record is not None:
            self._show_state(self._record)

    def update_from(self, snapshot: FleetSnapshot) -> None:
        """Follow new results while the page is open."""
        if self._record is None:
            return
        record = snapshot.record(self._record.id)
        if record is None:
            self.back_requested.emit()
            return
        if record != self._record:
            self.show_host(record)
            self.reload()

    def set_range(self, chart_range: ChartRange) -> None:
        self._range = chart_range
        button = self.range_buttons.button(list(ChartRange).index(chart_range))
        button.setChecked(True)
        self.reload()

    def reload(self) -> None:
        if self._record is None:
            return
        if self._loading:
            self._load_again = True  # e.g. another range or container picked meanwhile
            return
        self._loading = True
        self._ctx.tasks.spawn(self._reload(), f"Loading the charts of {self._record.host.name}")

    async def _reload(self) -> None:
        try:
            await self.load()
        finally:
            self._loading = False
        if self._load_again:
            self._load_again = False
            self.reload()

    async def load(self) -> None:
        record = self._record
        if record is None:
            return
        core, now = self._ctx.core, int(self._ctx.now())
        subject = self.chart_container
        if subject is None:
            load = functools.partial(load_host_charts, core.history, record.id, self._range, now)
        else:
            load = functools.partial(
                load_container_charts, core.history, record.id, subject, self._range, now
            )
        charts: HostCharts = await self._ctx.read(load)
        options = await self._ctx.read(
            functools.partial(load_container_choices, core.docker, core.history, record.id)
        )
        detail = await self._ctx.read(
            functools.partial(core.read_model.host_detail, record, now - EVENTS_DAYS * 86400)
        )
        if self._record is None or self._record.id != record.id:
            return
        if subject is None:
            self.charts.show_charts(charts)
            self.chart_pages.setCurrentWidget(self.charts)
        else:
            self.container_charts.show_charts(charts)
            self.chart_pages.setCurrentWidget(self.container_charts)
        self._set_choices(options)
        self.containers.set_containers(detail.containers)
        self._show_events(detail.events)
        await self.incidents.load()

    def _set_choices(self, options: list[ContainerChoice]) -> None:
        """The picker: the server, then each app and container with history, by name."""
        current = self.chart_container
        wanted = [(THE_SERVER, None), *((o.label, o.subject) for o in options)]
        combo = self.chart_subject
        if [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())] == wanted:
            return
        combo.blockSignals(True)
        try:
            combo.clear()
            for text, subject in wanted:
                combo.addItem(text, subject)
            combo.setCurrentIndex(max(combo.findData(current), 0))
        finally:
            combo.blockSignals(False)

    def _show_events(self, events: list[Event]) -> None:
        self.events.clear()
        for event in reversed(events[-500:]):
            what = EVENT_TEXT.get(event.kind, event.kind.replace("_", " ").capitalize())
            if event.kind == "state_change" and event.new_state:
                what = f"{(event.old_state or 'new').capitalize()} → {event.new_state.capitalize()}"
            self.events.addTopLevelItem(
                QTreeWidgetItem([formatting.local_time(event.at), what, event.message])
            )
        if not events:
            self.events.addTopLevelItem(QTreeWidgetItem(["", "Nothing happened in 30 days", ""]))

    def _edit(self) -> None:
        if self._record is not None:
            self.edit_requested.emit(self._record.id)

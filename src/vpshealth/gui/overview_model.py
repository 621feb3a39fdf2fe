"""The fleet as a table model: one row per host. Sorting uses ``SORT_ROLE``; the bar columns
hand their percentage to the delegate through ``PERCENT_ROLE``."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QPalette

from vpshealth.domain.health import HostState
from vpshealth.gui import formatting
from vpshealth.gui.colours import Tone
from vpshealth.gui.theme import text_colour
from vpshealth.gui.tray_state import STATE_LABELS, state_of
from vpshealth.read_model.fleet import FleetSnapshot
from vpshealth.store.host_repository import HostRecord

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PERCENT_ROLE = Qt.ItemDataRole.UserRole + 2
HOST_ID_ROLE = Qt.ItemDataRole.UserRole + 3
TAGS_ROLE = Qt.ItemDataRole.UserRole + 4


def state_colour(state: HostState, palette: QPalette | None = None) -> QColor:
    """The state's words in the palette's scheme (the application's by default)."""
    return text_colour(Tone(state.value), palette)


class Column(IntEnum):
    STATE = 0
    NAME = 1
    ADDRESS = 2
    CPU = 3
    MEMORY = 4
    DISK = 5
    CONTAINERS = 6
    INCIDENTS = 7
    CHECKED = 8
    MESSAGE = 9


HEADERS = {
    Column.STATE: "State",
    Column.NAME: "Server",
    Column.ADDRESS: "Address",
    Column.CPU: "CPU",
    Column.MEMORY: "Memory",
    Column.DISK: "Fullest disk",
    Column.CONTAINERS: "Containers",
    Column.INCIDENTS: "Open incidents",
    Column.CHECKED: "Last check",
    Column.MESSAGE: "Details",
}

BAR_COLUMNS = (Column.CPU, Column.MEMORY, Column.DISK)

_Index = QModelIndex | QPersistentModelIndex


def state_label(record: HostRecord) -> str:
    if not record.host.enabled:
        return "Disabled"
    return STATE_LABELS[state_of(record)]


def _percentages(record: HostRecord) -> dict[Column, float | None]:
    metrics = record.status.metrics if record.status else None
    if metrics is None:
        return {Column.CPU: None, Column.MEMORY: None, Column.DISK: None}
    disk = max((d.percent for d in metrics.disks), default=None)
    return {
        Column.CPU: metrics.cpu_percent,
        Column.MEMORY: metrics.memory.percent,
        Column.DISK: disk,
    }


def fullest_disk(record: HostRecord) -> str:
    metrics = record.status.metrics if record.status else None
    if metrics is None or not metrics.disks:
        return ""
    disk = max(metrics.disks, key=lambda d: d.percent)
    used, total = formatting.human_bytes(disk.used_bytes), formatting.human_bytes(disk.total_bytes)
    return f"{disk.mount}: {used} of {total} ({disk.percent:.0f}%)"


class OverviewModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._snapshot = FleetSnapshot(())

    @property
    def snapshot(self) -> FleetSnapshot:
        return self._snapshot

    def set_snapshot(self, snapshot: FleetSnapshot) -> None:
        old_ids = [r.id for r in self._snapshot.records]
        new_ids = [r.id for r in snapshot.records]
        if old_ids == new_ids and new_ids:
            self._snapshot = snapshot
            self.dataChanged.emit(self.index(0, 0), self.index(len(new_ids) - 1, len(Column) - 1))
            return
        self.beginResetModel()
        self._snapshot = snapshot
        self.endResetModel()

    def record_at(self, row: int) -> HostRecord:
        return self._snapshot.records[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._snapshot.records)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: PLR0911
        if not index.isValid():
            return None
        record = self._snapshot.records[index.row()]
        column = Column(index.column())
        if role == HOST_ID_ROLE:
            return record.id
        if role == TAGS_ROLE:
            return list(record.host.tags)
        if role == PERCENT_ROLE and column in BAR_COLUMNS:
            return _percentages(record)[column]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(record, column)
        if role == SORT_ROLE:
            return self._sort_key(record, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(record, column)
        if role == Qt.ItemDataRole.ForegroundRole and column is Column.STATE:
            return QBrush(state_colour(state_of(record))) if record.host.enabled else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            Column.CONTAINERS,
            Column.INCIDENTS,
        ):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _display(self, record: HostRecord, column: Column) -> str:  # noqa: PLR0911
        status = record.status
        if column is Column.STATE:
            return state_label(record)
        if column is Column.NAME:
            return record.host.name
        if column is Column.ADDRESS:
            return record.host.display_address
        if column in BAR_COLUMNS:
            return formatting.percent(_percentages(record)[column])
        if column is Column.CONTAINERS:
            counts = self._snapshot.containers.get(record.id)
            return "—" if counts is None else f"{counts.running} / {counts.total}"
        if column is Column.INCIDENTS:
            count = self._snapshot.open_incidents.get(record.id, 0)
            return str(count) if count else "—"
        if column is Column.CHECKED:
            return formatting.ago(status.checked_at if status else None)
        if status is None:
            return "Waiting for the first check"
        since = formatting.ago(status.since).removesuffix(" ago")
        return status.message if status.state is HostState.OK else f"{status.message} (for {since})"

    def _sort_key(self, record: HostRecord, column: Column) -> Any:
        if column is Column.STATE:
            return (state_of(record).severity if record.host.enabled else -1, record.host.name)
        if column in BAR_COLUMNS:
            value = _percentages(record)[column]
            return -1.0 if value is None else value
        if column is Column.CONTAINERS:
            counts = self._snapshot.containers.get(record.id)
            return -1 if counts is None else counts.total
        if column is Column.INCIDENTS:
            return self._snapshot.open_incidents.get(record.id, 0)
        if column is Column.CHECKED:
            return record.status.checked_at if record.status else 0
        return self._display(record, column).lower()

    def _tooltip(self, record: HostRecord, column: Column) -> str | None:
        status = record.status
        if column is Column.DISK:
            return fullest_disk(record) or None
        if column is Column.CHECKED and status is not None:
            return formatting.local_time(status.checked_at)
        if column in (Column.STATE, Column.MESSAGE) and status is not None:
            since = formatting.local_time(status.since)
            return f"{state_label(record)} since {since}: {status.message}"
        return None


class OverviewFilter(QSortFilterProxyModel):
    """Filters by a tag (exact) and a text (in the name, address, tags or details)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._tag: str | None = None
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_tag(self, tag: str | None) -> None:
        self.beginFilterChange()
        self._tag = tag or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, OverviewModel)
        record = model.record_at(source_row)
        if self._tag is not None and self._tag not in record.host.tags:
            return False
        if not self._text:
            return True
        haystack = " ".join(
            [
                record.host.name,
                record.host.display_address,
                *record.host.tags,
                record.status.message if record.status else "",
            ]
        ).lower()
        return self._text in haystack

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a = left.data(SORT_ROLE)
        b = right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


def all_tags(snapshot: FleetSnapshot) -> list[str]:
    return sorted({tag for r in snapshot.records for tag in r.host.tags})

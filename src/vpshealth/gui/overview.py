"""The dashboard's overview: every host in one sortable, filterable table."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from vpshealth.gui.colours import Scheme, Tone
from vpshealth.gui.overview_model import (
    BAR_COLUMNS,
    HOST_ID_ROLE,
    PERCENT_ROLE,
    Column,
    OverviewFilter,
    OverviewModel,
    all_tags,
)
from vpshealth.gui.theme import graphic_colour, scheme_of
from vpshealth.read_model.fleet import FleetSnapshot

ALL_TAGS = "All tags"


def bar_colour(percent: float, scheme: Scheme = Scheme.LIGHT) -> QColor:
    if percent >= 95:
        return graphic_colour(Tone.CRITICAL, scheme)
    if percent >= 85:
        return graphic_colour(Tone.WARNING, scheme)
    return graphic_colour(Tone.NORMAL, scheme)


class BarDelegate(QStyledItemDelegate):
    """The percentage, with a thin bar under it: the text stays on the view's background,
    where its contrast is the palette's own, and the bar keeps 3:1 against it."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        value = index.data(PERCENT_ROLE)
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem,
                option,
                painter,
                option.widget,
            )
        rect: QRect = option.rect
        painter.save()
        text = option.palette.text().color()
        thickness = max(3, rect.height() // 6)
        if isinstance(value, float):
            bar = QRect(
                rect.left() + 6, rect.bottom() - thickness - 2, rect.width() - 12, thickness
            )
            track = QColor(text)
            track.setAlpha(40)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(track)
            painter.drawRoundedRect(bar, 1, 1)
            filled = QRect(bar)
            filled.setWidth(max(1, round(bar.width() * min(value, 100.0) / 100.0)))
            painter.setBrush(bar_colour(value, scheme_of(option.palette)))
            painter.drawRoundedRect(filled, 1, 1)
        painter.setPen(text)
        label = rect.adjusted(0, 0, 0, -thickness - 2)
        painter.drawText(label, int(Qt.AlignmentFlag.AlignCenter), str(index.data()))
        painter.restore()


class OverviewView(QWidget):
    host_activated = Signal(int)
    add_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = OverviewModel(self)
        self.proxy = OverviewFilter(self)
        self.proxy.setSourceModel(self.model)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter by name, address, tag or message")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_text)
        self.tags = QComboBox(self)
        self.tags.addItem(ALL_TAGS)
        self.tags.currentTextChanged.connect(
            lambda text: self.proxy.set_tag(None if text == ALL_TAGS else text)
        )
        self.add_button = QPushButton("Add server…", self)
        self.add_button.clicked.connect(self.add_requested)
        self.summary = QLabel(self)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.tags)
        bar.addWidget(self.add_button)

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.STATE, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        widths = {Column.STATE: 100, Column.NAME: 140, Column.ADDRESS: 160, Column.CHECKED: 110}
        for column, width in widths.items():
            self.table.setColumnWidth(column, width)
        self._delegate = BarDelegate(self.table)
        for column in BAR_COLUMNS:
            self.table.setItemDelegateForColumn(column, self._delegate)
            self.table.setColumnWidth(column, 90)
        self.table.activated.connect(self._activated)
        self.table.doubleClicked.connect(self._activated)

        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset):
            signal.connect(self._update_summary)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)

    def set_snapshot(self, snapshot: FleetSnapshot) -> None:
        self.model.set_snapshot(snapshot)
        tags = all_tags(snapshot)
        current = self.tags.currentText()
        if [self.tags.itemText(i) for i in range(1, self.tags.count())] != tags:
            self.tags.blockSignals(True)
            self.tags.clear()
            self.tags.addItems([ALL_TAGS, *tags])
            self.tags.setCurrentText(current if current in tags else ALL_TAGS)
            self.tags.blockSignals(False)
            self.proxy.set_tag(None if self.tags.currentText() == ALL_TAGS else current)
        self._update_summary()

    def _update_summary(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.summary.setText(
            f"{total} servers" if shown == total else f"Showing {shown} of {total} servers"
        )

    def visible_host_ids(self) -> list[int]:
        return [
            int(self.proxy.index(row, 0).data(HOST_ID_ROLE)) for row in range(self.proxy.rowCount())
        ]

    def _activated(self, index: QModelIndex) -> None:
        self.host_activated.emit(int(index.data(HOST_ID_ROLE)))

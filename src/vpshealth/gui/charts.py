"""The host's metric charts: stacked pyqtgraph plots on one shared time axis, with a
crosshair that reads out every line's value at the cursor."""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vpshealth.gui import formatting
from vpshealth.gui.chart_data import CHART_UNITS, LAYOUT, HostCharts, Line, Panel

Layout = dict[str, tuple[int, int, int]]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")


def value_text(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "B/s":
        return f"{formatting.human_bytes(value)}/s"
    if unit == "B":
        return formatting.human_bytes(value)
    return f"{value:.2f}"


def nearest(line: Line, x: float) -> float | None:
    """The line's value at the sample nearest to ``x``, or None if ``x`` is outside it."""
    if not line.xs or x < line.xs[0] or x > line.xs[-1]:
        return None
    i = bisect.bisect_left(line.xs, x)
    if i == len(line.xs) or (i > 0 and x - line.xs[i - 1] < line.xs[i] - x):
        i -= 1
    return line.ys[i]


def readout(charts: HostCharts, x: float) -> str:
    when = dt.datetime.fromtimestamp(x).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    parts = []
    for panel in charts.panels:
        for line in panel.lines:
            value = nearest(line, x)
            if value is not None:
                name = line.label if len(panel.lines) > 1 else panel.title
                parts.append(f"{name} {value_text(value, panel.unit)}")
    return f"{when}   " + (" · ".join(parts) if parts else "no data here")


class ChartsView(QWidget):
    """The host's panels by default; ``layout`` and ``units`` give another set (a container's)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        layout: Layout | None = None,
        units: dict[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        panels = LAYOUT if layout is None else layout
        units = CHART_UNITS if units is None else units
        pg.setConfigOptions(antialias=True, background="w", foreground="#444")
        self.graphics: Any = pg.GraphicsLayoutWidget()
        self.readout = QLabel("Move the pointer over a chart to read its values.", self)
        self.readout.setWordWrap(True)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.graphics, 1)
        box.addWidget(self.readout)
        self.plots: dict[str, Any] = {}
        self._cursors: list[Any] = []
        self._charts: HostCharts | None = None
        first: Any = None
        for key, (row, col, colspan) in panels.items():
            plot = self.graphics.addPlot(
                row=row, col=col, colspan=colspan, axisItems={"bottom": pg.DateAxisItem()}
            )
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseEnabled(x=True, y=False)
            plot.addLegend(offset=(5, 5), labelTextSize="8pt")
            if units[key] in {"B/s", "B"}:
                plot.getAxis("left").setLabel(units=units[key])  # SI prefixes: kB/s, MB
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", width=1))
            cursor.setVisible(False)
            plot.addItem(cursor, ignoreBounds=True)
            self._cursors.append(cursor)
            # Pan and zoom together; linking plots of different widths would shift their times.
            if first is None:
                first = plot
            elif colspan == 1:
                plot.setXLink(first)
            self.plots[key] = plot
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)

    @property
    def charts(self) -> HostCharts | None:
        return self._charts

    def show_charts(self, charts: HostCharts) -> None:
        self._charts = charts
        for panel in charts.panels:
            self._draw(self.plots[panel.key], panel)
        for plot in self.plots.values():
            plot.setXRange(charts.since, charts.until, padding=0)

    def _draw(self, plot: Any, panel: Panel) -> None:
        for item in list(plot.listDataItems()):
            plot.removeItem(item)
        legend = plot.legend
        if legend is not None:
            legend.clear()
        unit = f" ({panel.unit})" if panel.unit == "%" else ""
        title = panel.title + unit + ("  — no data in this range" if panel.empty else "")
        plot.setTitle(title, size="9pt")
        for i, line in enumerate(panel.lines):
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=1.5)
            plot.plot(line.xs, line.ys, pen=pen, name=line.label if len(panel.lines) > 1 else None)
        if panel.unit == "%":
            highest = max((y for line in panel.lines for y in line.ys), default=0.0)
            plot.setYRange(0, max(100.0, highest), padding=0.02)  # a container: 100 % a core
        else:
            plot.enableAutoRange(axis="y")

    def _mouse_moved(self, pos: QPointF) -> None:
        if self._charts is None:
            return
        for plot in self.plots.values():
            if plot.sceneBoundingRect().contains(pos):
                x = float(plot.getViewBox().mapSceneToView(pos).x())
                self.show_cursor(x)
                return

    def show_cursor(self, x: float) -> None:
        if self._charts is None:
            return
        for cursor in self._cursors:
            cursor.setPos(x)
            cursor.setVisible(True)
        self.readout.setText(readout(self._charts, x))

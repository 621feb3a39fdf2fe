"""The host's metric charts: stacked pyqtgraph plots on one shared time axis, with a
crosshair that reads out every line's value at the cursor. Drawn in the palette's colours, and
redrawn when the palette changes (a switch between light and dark)."""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vpshealth.gui import formatting
from vpshealth.gui.chart_data import CHART_UNITS, LAYOUT, HostCharts, Line, Panel
from vpshealth.gui.theme import ChartStyle, chart_style

Layout = dict[str, tuple[int, int, int]]


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
        pg.setConfigOptions(antialias=True)
        self.style_used: ChartStyle = chart_style(self.palette())
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
            cursor = pg.InfiniteLine(angle=90, movable=False)
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
        self._apply_style()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.style_used = chart_style(self.palette())
            self._apply_style()
            if self._charts is not None:
                for panel in self._charts.panels:
                    self._draw(self.plots[panel.key], panel)

    def _apply_style(self) -> None:
        style = self.style_used
        self.graphics.setBackground(style.background)
        for plot in self.plots.values():
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(style.axis))
                axis.setTextPen(pg.mkPen(style.foreground))
            if plot.legend is not None:
                plot.legend.setLabelTextColor(style.foreground)
        for cursor in self._cursors:
            cursor.setPen(pg.mkPen(style.cursor, width=1))

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
        style = self.style_used
        plot.setTitle(title, size="9pt", color=style.foreground)
        for i, line in enumerate(panel.lines):
            pen = pg.mkPen(style.lines[i % len(style.lines)], width=1.5)
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

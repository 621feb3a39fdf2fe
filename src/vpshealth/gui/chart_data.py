"""Every read of chart data goes through here (so the history query can change in one place).
Blocking: call through ``asyncio.to_thread``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from vpshealth.domain.metric_catalog import (
    CONTAINER_SERIES,
    METRICS,
    Chart,
    Metric,
    Subject,
    series_name,
    subjects_in,
)
from vpshealth.read_model.container_series import ContainerChoice, choices
from vpshealth.store.docker_repository import DockerRepository
from vpshealth.store.history import CHART_MAX_POINTS, HistoryReader, Point

MAX_POINTS = CHART_MAX_POINTS


def grid(metrics: Iterable[Metric[Any]]) -> dict[str, tuple[int, int, int]]:
    """Each charted metric's panel → (row, column, columns spanned): two a row, in the
    catalogue's order; a wide panel takes a row of its own."""
    places: dict[str, tuple[int, int, int]] = {}
    row = col = 0
    for metric in metrics:
        if metric.chart is None:
            continue
        if metric.chart.wide and col:
            row, col = row + 1, 0
        places[metric.name] = (row, col, 2 if metric.chart.wide else 1)
        col += 2 if metric.chart.wide else 1
        if col == 2:
            row, col = row + 1, 0
    return places


LAYOUT = grid(METRICS)
"""Panel → (row, column, columns spanned)."""

CHART_UNITS = {metric.name: metric.chart.unit for metric in METRICS if metric.chart is not None}

CONTAINER_UNITS = {"container.cpu_percent": "%", "container.memory_bytes": "B"}
"""A container's panels, by series key: CPU (100 % is one core) and memory in bytes."""

CONTAINER_LAYOUT = {key: (0, col, 1) for col, key in enumerate(CONTAINER_UNITS)}


class ChartRange(Enum):
    HOUR = ("1 h", 3600)
    SIX_HOURS = ("6 h", 6 * 3600)
    DAY = ("24 h", 24 * 3600)
    WEEK = ("7 d", 7 * 24 * 3600)
    MONTH = ("30 d", 30 * 24 * 3600)

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def seconds(self) -> int:
        return self.value[1]


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Panel:
    key: str
    title: str
    unit: str
    lines: tuple[Line, ...]

    @property
    def empty(self) -> bool:
        return not any(line.xs for line in self.lines)


@dataclass(frozen=True, slots=True)
class HostCharts:
    since: int
    until: int
    panels: tuple[Panel, ...]

    def panel(self, key: str) -> Panel:
        return next(p for p in self.panels if p.key == key)


def downsample(points: Sequence[Point], since: int, until: int, limit: int) -> list[Point]:
    """Average the points into at most ``limit`` equal time buckets."""
    if len(points) <= limit:
        return list(points)
    width = max(1.0, (until - since) / limit)
    buckets: dict[int, list[Point]] = {}
    for point in points:
        buckets.setdefault(int((point.ts - since) // width), []).append(point)
    return [
        Point(
            round(sum(p.ts for p in bucket) / len(bucket)),
            sum(p.value for p in bucket) / len(bucket),
        )
        for _, bucket in sorted(buckets.items())
    ]


def rates(points: Sequence[Point]) -> list[Point]:
    """Per-second rates of a byte counter; a counter reset (reboot) leaves a gap, not a dip."""
    result = []
    for before, after in itertools.pairwise(points):
        elapsed = after.ts - before.ts
        delta = after.value - before.value
        if elapsed > 0 and delta >= 0:
            result.append(Point(after.ts, delta / elapsed))
    return result


def _line(label: str, points: Sequence[Point], since: int, until: int, limit: int) -> Line:
    thinned = downsample(points, since, until, limit)
    return Line(label, tuple(float(p.ts) for p in thinned), tuple(p.value for p in thinned))


def load_host_charts(
    history: HistoryReader, host_id: int, chart_range: ChartRange, now: int, limit: int = MAX_POINTS
) -> HostCharts:
    """One panel per charted metric of the catalogue, in its order."""
    since = now - chart_range.seconds
    stored = history.metrics_of(host_id)

    def read(metric: str) -> list[Point]:
        """Raw samples for short ranges, 1-minute or 1-hour averages for long ones."""
        data = history.series(host_id, metric, since, now, max_points=limit)
        return [Point(ts, value) for ts, value in zip(data.timestamps, data.values, strict=True)]

    def panel(metric: Metric[Any], chart: Chart) -> Panel:
        lines = metric.lines
        if metric.subject is Subject.HOST:
            subjects = [""]
        else:
            subjects = [s for s in subjects_in(stored, lines[0][0].key) if s not in chart.hidden]
        drawn = []
        for subject in subjects:
            for series, label in lines:
                points = read(metric.series_name(series, subject))
                if chart.rate:
                    points = rates(points)
                drawn.append(_line(label.format(subject=subject), points, since, now, limit))
        return Panel(metric.name, chart.title, chart.unit, tuple(drawn))

    panels = tuple(panel(metric, metric.chart) for metric in METRICS if metric.chart is not None)
    return HostCharts(since, now, panels)


def load_container_choices(
    docker: DockerRepository, history: HistoryReader, host_id: int
) -> list[ContainerChoice]:
    """The host's apps and containers with stored history, as the chart picker lists them."""
    return choices(docker.containers_of(host_id), history.metrics_of(host_id))


def load_container_charts(
    history: HistoryReader,
    host_id: int,
    subject: str,
    chart_range: ChartRange,
    now: int,
    *,
    limit: int = MAX_POINTS,
) -> HostCharts:
    """CPU and memory of one app (across its deploys) or standalone container."""
    since = now - chart_range.seconds
    panels = []
    for series in CONTAINER_SERIES:
        data = history.series(host_id, series_name(series.key, subject), since, now, limit)
        points = [Point(ts, v) for ts, v in zip(data.timestamps, data.values, strict=True)]
        label = series.line or series.key
        line = _line(label, points, since, now, limit)
        panels.append(Panel(series.key, label, CONTAINER_UNITS[series.key], (line,)))
    return HostCharts(since, now, tuple(panels))

"""Every read of chart data goes through here (so the history query can change in one place).
Blocking: call through ``asyncio.to_thread``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from vpshealth.store.history import HistoryReader, Point

MAX_POINTS = 1500
"""Per line; more than a chart is wide in pixels. Older points are averaged per time bucket."""


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
    since = now - chart_range.seconds
    metrics = history.metrics_of(host_id)

    def read(metric: str) -> list[Point]:
        """Raw samples for short ranges, 1-minute or 1-hour averages for long ones."""
        data = history.series(host_id, metric, since, now, max_points=limit)
        return [Point(ts, value) for ts, value in zip(data.timestamps, data.values, strict=True)]

    def line(label: str, metric: str) -> Line:
        return _line(label, read(metric), since, now, limit)

    disks = [m for m in metrics if m.startswith("disk.percent:")]
    interfaces = sorted(
        {m.partition(":")[2] for m in metrics if m.startswith("net.rx_bytes:")} - {"lo"}
    )
    network: list[Line] = []
    for nic in interfaces:
        for direction, metric in (("in", "net.rx_bytes"), ("out", "net.tx_bytes")):
            points = rates(read(f"{metric}:{nic}"))
            network.append(_line(f"{nic} {direction}", points, since, now, limit))
    panels = (
        Panel("cpu", "CPU", "%", (line("CPU", "cpu.percent"),)),
        Panel("memory", "Memory", "%", (line("Memory", "memory.percent"),)),
        Panel(
            "disk",
            "Disks",
            "%",
            tuple(line(m.partition(":")[2], m) for m in disks),
        ),
        Panel(
            "load",
            "Load average",
            "",
            (
                line("1 min", "load.1"),
                line("5 min", "load.5"),
                line("15 min", "load.15"),
            ),
        ),
        Panel("network", "Network", "B/s", tuple(network)),
    )
    return HostCharts(since, now, panels)

"""Every metric of a host, defined once: its series (stored name, how a mount's or an
interface's series is keyed, short names), its chart (title, unit, line labels) and its alert
levels (the rules ``<metric>.warning``, ``<metric>.critical`` and ``<metric>.minutes``).
Stored series, charts, rules, alert conditions and the host state are derived from here.

A series name is ``<key>`` or ``<key>:<subject>`` (a mount point, an interface, a container).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from vpshealth.domain.containers import ContainerView
from vpshealth.domain.metrics import DiskUsage, HostMetrics, NetworkCounters
from vpshealth.domain.rule_spec import RuleSpec, RuleType

S = TypeVar("S")

SUBJECT_SEPARATOR = ":"


class Subject(StrEnum):
    """What one series of a metric is about."""

    HOST = "host"
    MOUNT = "mount"
    INTERFACE = "interface"
    CONTAINER = "container"

    @property
    def gone(self) -> str:
        """Why a subject's readings stopped."""
        return "is no longer mounted" if self is Subject.MOUNT else "is gone"


def series_name(key: str, subject: str) -> str:
    """The stored name of a subject's series."""
    return f"{key}{SUBJECT_SEPARATOR}{subject}"


def subjects_in(names: Iterable[str], key: str) -> list[str]:
    """The subjects of the stored series of ``key`` among ``names``, sorted."""
    prefix = key + SUBJECT_SEPARATOR
    return sorted({name[len(prefix) :] for name in names if name.startswith(prefix)})


def shown(value: float, unit: str) -> str:
    """A level or a reading in a message: ``91%``, ``2.50 per core``."""
    return f"{value:.0f}%" if unit == "%" else f"{value:.2f} {unit}"


@dataclass(frozen=True, slots=True)
class Series(Generic[S]):
    """One stored value per subject. ``line``: its label in the chart (``{subject}`` is
    replaced by the subject), None when it is stored but not drawn."""

    key: str
    read: Callable[[S], float | None]
    line: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Chart:
    """A panel of the host's charts. ``rate``: the series are counters, drawn as per-second
    rates. ``wide``: the panel takes a whole row. ``hidden``: subjects not drawn."""

    title: str
    unit: str
    rate: bool = False
    wide: bool = False
    hidden: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Levels(Generic[S]):
    """Warning and critical levels, at or above which the host is in that state and an
    incident opens; with ``minutes``, only once the value has stayed there that long.
    ``label`` and ``incident`` may name the ``{subject}``. ``more``: further rules of the
    metric, listed after its own."""

    read: Callable[[S], float | None]
    label: str
    incident: str
    unit: str
    warning: float
    critical: float
    help: str
    lowest: float = 1
    highest: float = 100
    minutes: float | None = None
    minutes_help: str = "for this long"
    more: tuple[RuleSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Metric(Generic[S]):
    name: str
    subject: Subject
    subjects: Callable[[HostMetrics], Iterable[tuple[str, S]]]
    series: tuple[Series[S], ...]
    chart: Chart | None = None
    levels: Levels[S] | None = None

    def values(self, metrics: HostMetrics) -> Iterator[tuple[str, float]]:
        """(series name, value) of every series of every subject."""
        for subject, source in self.subjects(metrics):
            for series in self.series:
                value = series.read(source)
                if value is not None:
                    yield self.series_name(series, subject), value

    def series_name(self, series: Series[S], subject: str) -> str:
        return series.key if self.subject is Subject.HOST else series_name(series.key, subject)

    @property
    def lines(self) -> tuple[tuple[Series[S], str], ...]:
        """The charted series, each with its line's label."""
        return tuple((series, series.line) for series in self.series if series.line is not None)

    def rule(self, level: str) -> str:
        """The rule of a level: ``warning``, ``critical`` or ``minutes``."""
        return f"{self.name}.{level}"

    def rule_specs(self) -> tuple[RuleSpec, ...]:
        levels = self.levels
        if levels is None:
            return ()
        bounds = (levels.lowest, levels.highest, levels.unit, levels.help)
        specs = [
            RuleSpec(self.rule("warning"), RuleType.NUMBER, levels.warning, *bounds),
            RuleSpec(self.rule("critical"), RuleType.NUMBER, levels.critical, *bounds),
        ]
        if levels.minutes is not None:
            specs.append(
                RuleSpec(
                    self.rule("minutes"),
                    RuleType.NUMBER,
                    levels.minutes,
                    0,
                    1440,
                    "min",
                    levels.minutes_help,
                )
            )
        return (*specs, *levels.more)


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of a metric that has levels, as the host state and the alerts judge it."""

    metric: Metric[Any]
    subject: str
    value: float

    @property
    def rule(self) -> str:
        """The condition's rule: the metric's name."""
        return self.metric.name

    @property
    def label(self) -> str:
        assert self.metric.levels is not None
        return self.metric.levels.label.format(subject=self.subject)

    @property
    def unit(self) -> str:
        assert self.metric.levels is not None
        return self.metric.levels.unit

    def shown(self, value: float) -> str:
        return shown(value, self.unit)


def _host(metrics: HostMetrics) -> tuple[tuple[str, HostMetrics]]:
    return (("", metrics),)


def _mounts(metrics: HostMetrics) -> Iterator[tuple[str, DiskUsage]]:
    return ((disk.mount, disk) for disk in metrics.disks)


def _interfaces(metrics: HostMetrics) -> Iterator[tuple[str, NetworkCounters]]:
    return ((nic.interface, nic) for nic in metrics.network)


def _rounded(read: Callable[[S], float | None]) -> Callable[[S], float | None]:
    def rounded(source: S) -> float | None:
        value = read(source)
        return None if value is None else round(value, 2)

    return rounded


def _load_per_core(m: HostMetrics) -> float:
    return m.load.five / max(m.cpu_count, 1)


_HOURS_RULES = (
    RuleSpec(
        "disk_forecast.hours", RuleType.NUMBER, 24, 0, 720, "h",
        "warn when a filesystem is predicted full within this (0 = off)",
    ),
    RuleSpec(
        "disk_forecast.critical_hours", RuleType.NUMBER, 4, 0, 720, "h",
        "critical when predicted full within this (0 = off)",
    ),
)  # fmt: skip

CPU: Metric[HostMetrics] = Metric(
    "cpu",
    Subject.HOST,
    _host,
    (Series("cpu.percent", lambda m: m.cpu_percent, "CPU", ("cpu",)),),
    Chart("CPU", "%"),
    Levels(
        lambda m: m.cpu_percent,
        "CPU",
        "high CPU",
        "%",
        85,
        95,
        "CPU busy at or above this",
        minutes=5,
        minutes_help="for this long before alerting",
    ),
)
MEMORY: Metric[HostMetrics] = Metric(
    "memory",
    Subject.HOST,
    _host,
    (
        Series("memory.percent", lambda m: round(m.memory.percent, 2), "Memory", ("memory", "mem")),
        Series("memory.used_bytes", lambda m: float(m.memory.used_bytes)),
    ),
    Chart("Memory", "%"),
    Levels(
        lambda m: m.memory.percent,
        "memory",
        "memory running out",
        "%",
        85,
        95,
        "memory used at or above this",
        minutes=5,
    ),
)
SWAP: Metric[HostMetrics] = Metric(
    "swap",
    Subject.HOST,
    _host,
    (Series("swap.used_bytes", lambda m: float(m.swap.used_bytes), aliases=("swap",)),),
)
DISK: Metric[DiskUsage] = Metric(
    "disk",
    Subject.MOUNT,
    _mounts,
    (
        Series("disk.percent", lambda d: round(d.percent, 2), "{subject}", ("disk",)),
        Series("disk.used_bytes", lambda d: float(d.used_bytes)),
    ),
    Chart("Disks", "%"),
    Levels(
        lambda d: d.percent,
        "disk {subject}",
        "disk {subject} filling up",
        "%",
        85,
        95,
        "a filesystem this full",
        more=_HOURS_RULES,
    ),
)
LOAD: Metric[HostMetrics] = Metric(
    "load",
    Subject.HOST,
    _host,
    (
        Series("load.1", lambda m: m.load.one, "1 min", ("load", "load1")),
        Series("load.5", lambda m: m.load.five, "5 min", ("load5",)),
        Series("load.15", lambda m: m.load.fifteen, "15 min", ("load15",)),
    ),
    Chart("Load average", ""),
    Levels(
        _load_per_core,
        "load",
        "high load",
        "per core",
        2,
        4,
        "5-minute load per core",
        lowest=0.1,
        highest=1000,
        minutes=10,
    ),
)
INODES: Metric[DiskUsage] = Metric(
    "inodes",
    Subject.MOUNT,
    _mounts,
    (Series("inodes.percent", _rounded(lambda d: d.inodes_percent), "{subject}", ("inodes",)),),
    Chart("Inodes", "%"),
)
NETWORK: Metric[NetworkCounters] = Metric(
    "network",
    Subject.INTERFACE,
    _interfaces,
    (
        Series("net.rx_bytes", lambda n: float(n.rx_bytes), "{subject} in", ("net.rx",)),
        Series("net.tx_bytes", lambda n: float(n.tx_bytes), "{subject} out", ("net.tx",)),
    ),
    Chart("Network", "B/s", rate=True, wide=True, hidden=frozenset({"lo"})),
)

METRICS: tuple[Metric[Any], ...] = (CPU, MEMORY, SWAP, DISK, LOAD, INODES, NETWORK)
"""In the order of the charts and of the rules."""

CONTAINER_SERIES: tuple[Series[ContainerView], ...] = (
    Series("container.cpu_percent", lambda view: view.metrics.cpu_percent, "CPU", ("cpu",)),
    Series(
        "container.memory_bytes",
        lambda view: (
            None if view.metrics.memory_bytes is None else float(view.metrics.memory_bytes)
        ),
        "Memory",
        ("memory", "mem"),
    ),
)
"""Per app, keyed by the app's identity (``ContainerGroup.identity``; a standalone container's
name) so that they continue across deploys: see ``series.flatten_containers``."""

LEVELLED: tuple[Metric[Any], ...] = tuple(m for m in METRICS if m.levels is not None)
"""The metrics with warning and critical levels (rules), in the order of the rules."""

PERCENT_LEVELLED: tuple[Metric[Any], ...] = tuple(
    m for m in LEVELLED if m.levels is not None and m.levels.unit == "%"
)
"""Those whose levels are percentages: the environment's warning and critical percent set
their starting defaults."""


def readings(metrics: HostMetrics) -> Iterator[Reading]:
    """Every value of one poll that has levels to be judged against."""
    for metric in LEVELLED:
        assert metric.levels is not None
        for subject, source in metric.subjects(metrics):
            value = metric.levels.read(source)
            if value is not None:
                yield Reading(metric, subject, value)

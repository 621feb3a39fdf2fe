"""The node's state as Prometheus metric families, read fresh at every scrape."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from vpshealth.api.context import ApiContext
from vpshealth.domain.containers import ContainerState, Severity
from vpshealth.domain.health import HostState
from vpshealth.engine.loop_lag import LoopLagMonitor
from vpshealth.engine.status import EngineStatus
from vpshealth.read_model.metrics_snapshot import MetricsSnapshot
from vpshealth.store.host_repository import HostRecord

HOST = ("host",)


class _HostFamilies:
    """The per-host families, filled in one pass over the hosts."""

    def __init__(self) -> None:
        def gauge(name: str, doc: str, labels: tuple[str, ...] = HOST) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"vpshealth_host_{name}", doc, labels=labels)

        self.info = InfoMetricFamily(
            "vpshealth_host",
            "A checked host: how it is reached (kind) and, once connected, its system",
            labels=HOST,
        )
        self.up = gauge("up", "1 when the last check reached the host, 0 when it did not")
        self.state = gauge(
            "state",
            "1 for the host's state as of its last check (ok, warning, critical, unreachable, "
            "unknown), 0 for the others",
            ("host", "state"),
        )
        self.last_check = gauge("last_check_timestamp_seconds", "When the host was last checked")
        self.cpu = gauge("cpu_percent", "Busy share of all CPUs between the last two polls")
        self.cpus = gauge("cpus", "Number of CPUs")
        self.load1 = gauge("load1", "Load average over 1 minute")
        self.load5 = gauge("load5", "Load average over 5 minutes")
        self.load15 = gauge("load15", "Load average over 15 minutes")
        self.memory_percent = gauge("memory_percent", "Memory in use (total - available)")
        self.memory_used = gauge("memory_used_bytes", "Memory in use (total - available)")
        self.memory_total = gauge("memory_total_bytes", "Memory installed")
        self.swap_used = gauge("swap_used_bytes", "Swap in use")
        self.swap_total = gauge("swap_total_bytes", "Swap configured")
        self.uptime = gauge("uptime_seconds", "Time since the host booted")
        disk = ("host", "mount")
        self.disk_percent = gauge(
            "disk_used_percent", "Used share of a filesystem, as df shows it", disk
        )
        self.disk_used = gauge("disk_used_bytes", "Space used on a filesystem", disk)
        self.disk_size = gauge("disk_size_bytes", "Size of a filesystem", disk)

    def add(self, record: HostRecord) -> None:
        name = record.host.name
        info = {"kind": record.host.kind.value}
        if record.system_info is not None:
            info |= {
                "hostname": record.system_info.hostname,
                "os": record.system_info.os_name,
                "kernel": record.system_info.kernel,
            }
        self.info.add_metric([name], info)
        status = record.status
        if status is None:
            return
        self.up.add_metric([name], 0.0 if status.state is HostState.UNREACHABLE else 1.0)
        for state in HostState:
            self.state.add_metric([name, state.value], 1.0 if state is status.state else 0.0)
        self.last_check.add_metric([name], status.checked_at)
        m = status.metrics
        if m is None:
            return
        if m.cpu_percent is not None:
            self.cpu.add_metric([name], m.cpu_percent)
        self.cpus.add_metric([name], m.cpu_count)
        self.load1.add_metric([name], m.load.one)
        self.load5.add_metric([name], m.load.five)
        self.load15.add_metric([name], m.load.fifteen)
        self.memory_percent.add_metric([name], round(m.memory.percent, 2))
        self.memory_used.add_metric([name], m.memory.used_bytes)
        self.memory_total.add_metric([name], m.memory.total_bytes)
        self.swap_used.add_metric([name], m.swap.used_bytes)
        self.swap_total.add_metric([name], m.swap.total_bytes)
        self.uptime.add_metric([name], m.uptime_seconds)
        for d in m.disks:
            self.disk_percent.add_metric([name, d.mount], round(d.percent, 2))
            self.disk_used.add_metric([name, d.mount], d.used_bytes)
            self.disk_size.add_metric([name, d.mount], d.total_bytes)

    def families(self) -> Iterator[Metric]:
        yield from vars(self).values()


def host_families(snapshot: MetricsSnapshot) -> Iterator[Metric]:
    """Enabled hosts only: a disabled host is not checked, and its last values would look
    current."""
    hosts = _HostFamilies()
    containers = GaugeMetricFamily(
        "vpshealth_containers",
        "Containers on a host as of its last check, by state (hosts with Docker only)",
        labels=["host", "state"],
    )
    enabled = [r for r in snapshot.records if r.host.enabled]
    for record in enabled:
        hosts.add(record)
        counts = snapshot.containers.get(record.id)
        if counts is not None:
            for state in ContainerState:
                containers.add_metric([record.host.name, state.value], counts.get(state, 0))
    yield GaugeMetricFamily("vpshealth_hosts", "Enabled hosts (the ones checked)", len(enabled))
    yield from hosts.families()
    yield containers
    incidents = GaugeMetricFamily(
        "vpshealth_open_incidents", "Incidents not resolved yet, by severity", labels=["severity"]
    )
    for severity in Severity:
        incidents.add_metric([severity.value], snapshot.open_incidents.get(severity.value, 0))
    yield incidents


def engine_families(
    engine: EngineStatus, lag: LoopLagMonitor | None, now: float
) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "vpshealth_engine_up", "1 while the checks run", 1.0 if engine.running else 0.0
    )
    _, age = engine.health(now)
    if age is not None:
        yield GaugeMetricFamily(
            "vpshealth_last_poll_age_seconds", "Time since the last poll of any host ended", age
        )
    durations = engine.poll_durations.histogram()
    histogram = HistogramMetricFamily(
        "vpshealth_poll_duration_seconds",
        "How long the polls that reached their host took (the others: "
        "vpshealth_failed_polls_total)",
    )
    histogram.add_metric(
        [], [(_bound(b), c) for b, c in durations.buckets], sum_value=durations.sum_seconds
    )
    yield histogram
    yield CounterMetricFamily(
        "vpshealth_failed_polls",
        "Polls that collected nothing: host unreachable, timed out, login refused ...",
        engine.poll_durations.failed,
    )
    if lag is not None and lag.last_seconds is not None:
        yield GaugeMetricFamily(
            "vpshealth_event_loop_lag_seconds",
            "How late the engine's event loop woke up at its last sample (every 0.5 s)",
            lag.last_seconds,
        )
        yield GaugeMetricFamily(
            "vpshealth_event_loop_lag_max_seconds",
            "The largest event loop lag of the last minute",
            lag.max_seconds,
        )


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


class NodeCollector(Collector):
    """Reads the database and the engine's status at every scrape (blocking: call off the
    event loop)."""

    def __init__(self, context: ApiContext) -> None:
        self._context = context

    def collect(self) -> Iterable[Metric]:
        context = self._context
        snapshot = context.read_model.metrics_snapshot()
        return [
            *host_families(snapshot),
            *engine_families(context.engine, context.loop_lag, context.clock.now()),
        ]

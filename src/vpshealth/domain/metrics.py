"""What one poll of a host measures."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Cumulative CPU time counters (jiffies) from the aggregate ``cpu`` line of /proc/stat."""

    user: int
    nice: int
    system: int
    idle: int
    iowait: int = 0
    irq: int = 0
    softirq: int = 0
    steal: int = 0

    @property
    def idle_all(self) -> int:
        return self.idle + self.iowait

    @property
    def total(self) -> int:
        return (
            self.user
            + self.nice
            + self.system
            + self.idle
            + self.iowait
            + self.irq
            + self.softirq
            + self.steal
        )


def cpu_percent_between(before: CpuTimes, after: CpuTimes) -> float | None:
    """Busy share of all CPUs between two samples, 0-100; None when the counters did not advance
    or went backwards (a reboot between polls)."""
    total = after.total - before.total
    idle = after.idle_all - before.idle_all
    if total <= 0 or idle < 0 or idle > total:
        return None
    return round(100.0 * (total - idle) / total, 2)


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    total_bytes: int
    available_bytes: int

    @property
    def used_bytes(self) -> int:
        """Used = total - available, as ``free`` shows it."""
        return max(self.total_bytes - self.available_bytes, 0)

    @property
    def percent(self) -> float:
        return 100.0 * self.used_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True, slots=True)
class SwapUsage:
    total_bytes: int
    free_bytes: int

    @property
    def used_bytes(self) -> int:
        return max(self.total_bytes - self.free_bytes, 0)


@dataclass(frozen=True, slots=True)
class DiskUsage:
    mount: str
    fstype: str
    total_bytes: int
    used_bytes: int
    available_bytes: int
    inodes_total: int | None = None
    inodes_used: int | None = None

    @property
    def percent(self) -> float:
        """Used share as ``df`` computes it: used / (used + available), so reserved blocks count
        as full."""
        usable = self.used_bytes + self.available_bytes
        return 100.0 * self.used_bytes / usable if usable else 0.0

    @property
    def inodes_percent(self) -> float | None:
        """Used share of the inodes; None when unknown or the filesystem has no fixed number
        (btrfs reports 0)."""
        if not self.inodes_total or self.inodes_used is None:
            return None
        return 100.0 * self.inodes_used / self.inodes_total


@dataclass(frozen=True, slots=True)
class NetworkCounters:
    interface: str
    rx_bytes: int
    tx_bytes: int


@dataclass(frozen=True, slots=True)
class LoadAverage:
    one: float
    five: float
    fifteen: float


@dataclass(frozen=True, slots=True)
class HostMetrics:
    """What one poll of a host measured; what is stored and shown.

    ``cpu_percent`` needs two CPU samples: the poll's own (``cpu_times_previous``, taken by
    the first poll of a connection) or the previous poll's (see ``with_cpu_percent``). The raw
    counters are kept only until the next poll; stored metrics have none."""

    cpu_percent: float | None
    cpu_count: int
    load: LoadAverage
    memory: MemoryUsage
    swap: SwapUsage
    uptime_seconds: float
    disks: tuple[DiskUsage, ...] = ()
    network: tuple[NetworkCounters, ...] = ()
    cpu_times: CpuTimes | None = None
    cpu_times_previous: CpuTimes | None = None


def with_cpu_percent(metrics: HostMetrics, previous: CpuTimes | None) -> HostMetrics:
    """The metrics with CPU % between the poll's own two samples, else since ``previous``."""
    before = metrics.cpu_times_previous or previous
    if before is None or metrics.cpu_times is None:
        return metrics
    return replace(metrics, cpu_percent=cpu_percent_between(before, metrics.cpu_times))


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """Read once per connection."""

    hostname: str
    kernel: str
    os_name: str

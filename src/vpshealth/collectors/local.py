"""The machine VPS Health runs on, read with psutil. Blocking: call from a worker thread."""

from __future__ import annotations

import platform
import socket
import time

import psutil

from vpshealth.domain.metrics import (
    CpuTimes,
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
    SystemInfo,
)

_PSEUDO_FS = {"tmpfs", "devtmpfs", "overlay", "squashfs", "proc", "sysfs", "ramfs", "nsfs"}
_CLOCK_TICKS = 100


def _cpu_times() -> CpuTimes:
    t = psutil.cpu_times()

    def ticks(name: str) -> int:
        return int(getattr(t, name, 0.0) * _CLOCK_TICKS)

    return CpuTimes(
        user=ticks("user"),
        nice=ticks("nice"),
        system=ticks("system"),
        idle=ticks("idle"),
        iowait=ticks("iowait"),
        irq=ticks("irq"),
        softirq=ticks("softirq"),
        steal=ticks("steal"),
    )


def _disks() -> tuple[DiskUsage, ...]:
    disks: dict[str, DiskUsage] = {}
    for part in psutil.disk_partitions(all=False):
        if part.fstype in _PSEUDO_FS or part.mountpoint in disks:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        if usage.total <= 0:
            continue
        disks[part.mountpoint] = DiskUsage(
            part.mountpoint, part.fstype, usage.total, usage.used, usage.free
        )
    return tuple(disks[m] for m in sorted(disks))


def _network() -> tuple[NetworkCounters, ...]:
    counters = psutil.net_io_counters(pernic=True)
    return tuple(
        NetworkCounters(name, c.bytes_recv, c.bytes_sent)
        for name, c in sorted(counters.items())
        if name != "lo" and not name.startswith("veth")
    )


def read_snapshot(take_two_cpu_samples: bool) -> HostMetrics:
    previous = None
    if take_two_cpu_samples:
        previous = _cpu_times()
        time.sleep(0.5)
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    load = psutil.getloadavg()
    return HostMetrics(
        cpu_percent=None,
        cpu_times=_cpu_times(),
        cpu_count=psutil.cpu_count() or 1,
        load=LoadAverage(round(load[0], 2), round(load[1], 2), round(load[2], 2)),
        memory=MemoryUsage(memory.total, memory.available),
        swap=SwapUsage(swap.total, swap.free),
        uptime_seconds=round(time.time() - psutil.boot_time(), 2),
        disks=_disks(),
        network=_network(),
        cpu_times_previous=previous,
    )


def read_system_info() -> SystemInfo:
    os_name = platform.platform(terse=True)
    try:
        release = platform.freedesktop_os_release()
        os_name = release.get("PRETTY_NAME") or os_name
    except OSError:
        pass
    return SystemInfo(socket.gethostname(), platform.release(), os_name)

"""Hosts, metrics and results for the GUI tests, written through the real store."""

from __future__ import annotations

from vpshealth.app import Core
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
)
from vpshealth.store.host_repository import HostRecord, HostStatus

GIB = 1024**3


def metrics(
    cpu: float = 10.0, memory: float = 40.0, disk: float = 50.0, rx: int = 0
) -> HostMetrics:
    total = 8 * GIB
    return HostMetrics(
        cpu_percent=cpu,
        cpu_count=4,
        load=LoadAverage(0.5, 0.4, 0.3),
        memory=MemoryUsage(total, int(total * (1 - memory / 100))),
        swap=SwapUsage(0, 0),
        uptime_seconds=86400,
        disks=(DiskUsage("/", "ext4", 100 * GIB, int(disk * GIB), int((100 - disk) * GIB)),),
        network=(NetworkCounters("eth0", rx, rx // 2),),
    )


def ssh_host(name: str, address: str = "203.0.113.10", tags: tuple[str, ...] = ()) -> Host:
    return Host(name=name, address=address, auth=AuthMethod.AGENT, tags=tags)


def add(core: Core, host: Host) -> int:
    return core.hosts.add(host)


def result(
    name: str,
    at: int,
    state: HostState = HostState.OK,
    message: str = "All good",
    problem: Problem | None = None,
    host_metrics: HostMetrics | None = None,
) -> CheckResult:
    if host_metrics is None and state is not HostState.UNREACHABLE:
        host_metrics = metrics()
    return CheckResult(name, at, state, problem, message, metrics=host_metrics)


def record(
    host_id: int,
    name: str,
    state: HostState | None,
    message: str = "All good",
    enabled: bool = True,
) -> HostRecord:
    host = Host(name=name, address="203.0.113.10", enabled=enabled)
    status = None if state is None else HostStatus(state, None, message, 100, 200, None)
    return HostRecord(host_id, host, None, status)

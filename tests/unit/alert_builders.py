"""Builders shared by the alerting domain tests: metrics with exact percentages, poll results
and condition changes."""

from __future__ import annotations

from collections.abc import Mapping

from vpshealth.domain.alert_conditions import ConditionChange
from vpshealth.domain.containers import Severity
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    SwapUsage,
)

T0 = 1_800_000_000
MINUTE = 60
HOUR = 3600
WARNING = Severity.WARNING
CRITICAL = Severity.CRITICAL

_SCALE = 10**9  # bytes of a test filesystem / memory: percentages exact to 1e-7


def disk(mount: str, percent: float) -> DiskUsage:
    used = round(percent * _SCALE / 100)
    return DiskUsage(mount, "ext4", _SCALE, used, _SCALE - used)


def metrics(
    *,
    cpu: float | None = 10.0,
    memory: float = 10.0,
    load5: float = 0.1,
    cpus: int = 2,
    disks: Mapping[str, float] | None = None,
) -> HostMetrics:
    used = round(memory * _SCALE / 100)
    return HostMetrics(
        cpu_percent=cpu,
        cpu_count=cpus,
        load=LoadAverage(load5, load5, load5),
        memory=MemoryUsage(_SCALE, _SCALE - used),
        swap=SwapUsage(0, 0),
        uptime_seconds=1000.0,
        disks=tuple(disk(m, p) for m, p in (disks or {"/": 40.0}).items()),
        network=(),
    )


def ok(at: int, host_metrics: HostMetrics | None = None) -> CheckResult:
    return CheckResult(
        host_name="web1",
        checked_at=at,
        state=HostState.OK,
        problem=None,
        message="All good",
        metrics=host_metrics if host_metrics is not None else metrics(),
    )


def failed(
    at: int, problem: Problem = Problem.UNREACHABLE, message: str = "connection refused"
) -> CheckResult:
    return CheckResult(
        host_name="web1",
        checked_at=at,
        state=HostState.UNREACHABLE,
        problem=problem,
        message=message,
    )


def change(
    rule: str = "cpu",
    severity: Severity | None = WARNING,
    at: int = T0,
    *,
    subject: str = "",
    message: str | None = None,
    value: float | None = None,
    app: str | None = None,
) -> ConditionChange:
    text = message if message is not None else f"{rule} {severity or 'resolved'} at {at}"
    return ConditionChange(rule, subject, severity, at, text, value=value, app=app)

"""Host states, problem codes and the default thresholds that map metrics to a state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vpshealth.domain.metrics import HostMetrics, SystemInfo


class HostState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {
    HostState.OK: 0,
    HostState.UNKNOWN: 1,
    HostState.WARNING: 2,
    HostState.UNREACHABLE: 3,
    HostState.CRITICAL: 4,
}


class Problem(StrEnum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth_failed"
    HOST_KEY_MISMATCH = "host_key_mismatch"
    HOST_KEY_NOT_TRUSTED = "host_key_not_trusted"
    KEY_MISSING = "key_missing"
    KEYRING_UNAVAILABLE = "keyring_unavailable"
    PARSE_ERROR = "parse_error"
    COMMAND_FAILED = "command_failed"
    CPU_HIGH = "cpu_high"
    MEMORY_HIGH = "memory_high"
    DISK_HIGH = "disk_high"


CONNECTION_PROBLEM_STATES: dict[Problem, HostState] = {
    Problem.UNREACHABLE: HostState.UNREACHABLE,
    Problem.TIMEOUT: HostState.UNREACHABLE,
    Problem.AUTH_FAILED: HostState.CRITICAL,
    Problem.HOST_KEY_MISMATCH: HostState.CRITICAL,
    Problem.HOST_KEY_NOT_TRUSTED: HostState.CRITICAL,
    Problem.KEY_MISSING: HostState.CRITICAL,
    Problem.KEYRING_UNAVAILABLE: HostState.UNKNOWN,
    Problem.PARSE_ERROR: HostState.UNKNOWN,
    Problem.COMMAND_FAILED: HostState.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Percent levels at or above which a host is warning / critical."""

    warning_percent: float = 85.0
    critical_percent: float = 95.0


@dataclass(frozen=True, slots=True)
class Assessment:
    state: HostState
    problem: Problem | None
    message: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one poll of one host. ``metrics`` is None when nothing was collected."""

    host_name: str
    checked_at: int
    state: HostState
    problem: Problem | None
    message: str
    metrics: HostMetrics | None = None
    system_info: SystemInfo | None = None
    duration_ms: int = 0


def assess(metrics: HostMetrics, thresholds: Thresholds = Thresholds()) -> Assessment:
    """The worst of CPU, memory and every disk against the thresholds."""
    readings: list[tuple[float, Problem, str]] = []
    if metrics.cpu_percent is not None:
        readings.append((metrics.cpu_percent, Problem.CPU_HIGH, "CPU"))
    readings.append((metrics.memory.percent, Problem.MEMORY_HIGH, "memory"))
    readings.extend(
        (disk.percent, Problem.DISK_HIGH, f"disk {disk.mount}") for disk in metrics.disks
    )
    worst: tuple[HostState, float, Problem, str] | None = None
    for value, problem, label in readings:
        state = _level(value, thresholds)
        if state is HostState.OK:
            continue
        if worst is None or (state.severity, value) > (worst[0].severity, worst[1]):
            worst = (state, value, problem, label)
    if worst is None:
        return Assessment(HostState.OK, None, "All good")
    state, value, problem, label = worst
    limit = (
        thresholds.critical_percent if state is HostState.CRITICAL else thresholds.warning_percent
    )
    return Assessment(state, problem, f"{label} at {value:.0f}% (limit {limit:.0f}%)")


def _level(value: float, thresholds: Thresholds) -> HostState:
    if value >= thresholds.critical_percent:
        return HostState.CRITICAL
    if value >= thresholds.warning_percent:
        return HostState.WARNING
    return HostState.OK

"""Host states, problem codes, and the host's state from its metrics and its alert rules.

The levels are the rules that open incidents (``domain.alert_rules``): the state shows where a
reading is now, while an incident also waits for the rule's ``*.minutes``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.containers import DockerReport, IncidentKind, Severity
from vpshealth.domain.metric_catalog import Reading, readings
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
    CONTAINER_INCIDENT = "container_incident"
    DOCKER_UNAVAILABLE = "docker_unavailable"
    DOCKER_PERMISSION_DENIED = "docker_permission_denied"
    # one ``<metric>_high`` for each metric with levels (metric_catalog.LEVELLED)
    CPU_HIGH = "cpu_high"
    MEMORY_HIGH = "memory_high"
    DISK_HIGH = "disk_high"
    LOAD_HIGH = "load_high"


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
    docker: DockerReport | None = None


def assess(metrics: HostMetrics, rules: RuleSet) -> Assessment:
    """The worst of CPU, memory, load per core and every disk against the host's
    ``*.warning`` and ``*.critical`` rules."""
    worst: tuple[HostState, float, Reading] | None = None
    for reading in readings(metrics):
        state = _level(reading, rules)
        if state is HostState.OK:
            continue
        if worst is None or (state.severity, reading.value) > (worst[0].severity, worst[1]):
            worst = (state, reading.value, reading)
    if worst is None:
        return Assessment(HostState.OK, None, "All good")
    state, value, reading = worst
    level = "critical" if state is HostState.CRITICAL else "warning"
    limit = rules[reading.metric.rule(level)]
    return Assessment(
        state,
        Problem(f"{reading.rule}_high"),
        f"{reading.label} at {reading.shown(value)} (limit {reading.shown(limit)})",
    )


def _level(reading: Reading, rules: RuleSet) -> HostState:
    if reading.value >= rules[reading.metric.rule("critical")]:
        return HostState.CRITICAL
    if reading.value >= rules[reading.metric.rule("warning")]:
        return HostState.WARNING
    return HostState.OK


_DAEMON_PROBLEMS = {
    IncidentKind.DOCKER_UNAVAILABLE: Problem.DOCKER_UNAVAILABLE,
    IncidentKind.DOCKER_PERMISSION_DENIED: Problem.DOCKER_PERMISSION_DENIED,
}


def assess_docker(report: DockerReport, rules: RuleSet) -> Assessment | None:
    """The host state that Docker alone calls for: critical for a crashed, OOM-killed or
    crash-looping container or an unreachable daemon, warning for an unhealthy one or a socket
    that could not be read on first contact. None when Docker is fine (or absent), and when the
    host's ``containers`` rule is off: then its containers open no incidents either."""
    if not rules["containers"]:
        return None
    if report.open:
        worst = max(report.open, key=lambda i: (i.severity is Severity.CRITICAL, i.at))
        state = HostState.CRITICAL if worst.severity is Severity.CRITICAL else HostState.WARNING
        problem = _DAEMON_PROBLEMS.get(worst.kind, Problem.CONTAINER_INCIDENT)
        more = len(report.open) - 1
        suffix = f" (and {more} more container problem{'s' if more > 1 else ''})" if more else ""
        return Assessment(state, problem, worst.message + suffix)
    if report.problem is not None:
        return Assessment(HostState.WARNING, _DAEMON_PROBLEMS[report.problem], report.message)
    return None


def worst_of(first: Assessment, second: Assessment | None) -> Assessment:
    """The more severe of two assessments (the second on a tie: it is the more specific), with
    the other one's message added when both found a problem."""
    if second is None:
        return first
    if second.state.severity >= first.state.severity:
        primary, other = second, first
    else:
        primary, other = first, second
    if other.state is HostState.OK:
        return primary
    return Assessment(primary.state, primary.problem, f"{primary.message}; also {other.message}")

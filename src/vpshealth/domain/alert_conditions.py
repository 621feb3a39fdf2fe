"""Which alert conditions hold on one host, poll after poll.

A condition is keyed by (rule, subject): ``("cpu", "")``, ``("disk", "/var")``,
``("restart_loop", "shop-web")``. Thresholds need their duration before they open and recover
only below the threshold less the hysteresis margin. Pure: the caller passes time in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.containers import ContainerIncident, IncidentKind, Severity
from vpshealth.domain.disk_forecast import DiskTrend
from vpshealth.domain.health import CheckResult, Problem
from vpshealth.domain.metric_catalog import LEVELLED, Reading, Subject, readings
from vpshealth.domain.metrics import HostMetrics

ConditionKey = tuple[str, str]

CONTAINER_RULES = frozenset(kind.value for kind in IncidentKind)
UNREACHABLE = "unreachable"
HOST_KEY = "host_key"

_CONNECTION_FAILURES = frozenset(
    {
        Problem.UNREACHABLE,
        Problem.TIMEOUT,
        Problem.AUTH_FAILED,
        Problem.KEY_MISSING,
        Problem.HOST_KEY_NOT_TRUSTED,
    }
)

RULE_UNITS = {
    **{metric.name: metric.levels.unit for metric in LEVELLED if metric.levels is not None},
    "disk_forecast": "h",
    UNREACHABLE: "failed checks",
}
"""The unit of each rule's value and threshold in incidents and notifications."""

_LEVELLED_BY_NAME = {metric.name: metric for metric in LEVELLED}

_RANK = {None: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True, slots=True)
class ConditionChange:
    """A condition opened, changed severity, or resolved (``severity`` None)."""

    rule: str
    subject: str
    severity: Severity | None
    at: int
    message: str
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    app: str | None = None
    container_id: str = ""
    container_name: str = ""
    log_lines: str | None = None
    replaces: str | None = None
    """An open condition of this rule (same subject) that becomes this one: the incident moves
    to this rule and gets worse rather than a second incident opening."""

    @property
    def key(self) -> ConditionKey:
        return (self.rule, self.subject)


def from_container_incident(incident: ContainerIncident) -> ConditionChange:
    return ConditionChange(
        rule=incident.kind.value,
        subject=incident.subject,
        severity=incident.severity if incident.opened else None,
        at=incident.at,
        message=incident.message,
        app=incident.app,
        container_id=incident.container_id,
        container_name=incident.container_name,
        log_lines=incident.log_lines,
        replaces=None if incident.replaces is None else incident.replaces.value,
    )


@dataclass(slots=True)
class _Threshold:
    active: Severity | None = None
    warning_since: int | None = None
    critical_since: int | None = None


@dataclass(frozen=True, slots=True)
class _Reading(Reading):
    """A reading with the host's levels for it."""

    warning: float
    critical: float
    minutes: float


@dataclass(slots=True)
class HostConditions:
    """The conditions of one host. ``restore`` continues from incidents that were open when the
    engine stopped, so a restart neither repeats nor forgets them."""

    thresholds: dict[ConditionKey, _Threshold] = field(default_factory=dict)
    trends: dict[str, DiskTrend] = field(default_factory=dict)
    failures: int = 0
    unreachable: Severity | None = None
    host_key: Severity | None = None
    forecasts: dict[str, Severity] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    """The check message each open connection incident (unreachable, host key) shows. A
    failed check that says more about the same failure (``"<reason>: <message>"``, the reason
    Hetzner Cloud gives) updates the incident's text; other messages leave it alone."""

    def restore(self, active: Mapping[ConditionKey, Severity]) -> None:
        for (rule, subject), severity in active.items():
            if rule == UNREACHABLE:
                self.unreachable = severity
            elif rule == HOST_KEY:
                self.host_key = severity
            elif rule == "disk_forecast":
                self.forecasts[subject] = severity
            elif rule in _LEVELLED_BY_NAME:
                self.thresholds[(rule, subject)] = _Threshold(active=severity)

    def active(self) -> dict[ConditionKey, Severity]:
        found: dict[ConditionKey, Severity] = {
            key: t.active for key, t in self.thresholds.items() if t.active is not None
        }
        found.update({("disk_forecast", mount): s for mount, s in self.forecasts.items()})
        if self.unreachable is not None:
            found[(UNREACHABLE, "")] = self.unreachable
        if self.host_key is not None:
            found[(HOST_KEY, "")] = self.host_key
        return found

    def _restart_threshold_timers(self) -> None:
        for t in self.thresholds.values():
            t.warning_since = t.critical_since = None

    def restart_timers(self) -> None:
        """After the machine slept: durations count again from the next poll."""
        self._restart_threshold_timers()
        self.trends.clear()

    def observe(self, result: CheckResult, rules: RuleSet) -> list[ConditionChange]:
        at = result.checked_at
        if result.problem is Problem.HOST_KEY_MISMATCH:
            if self.host_key is not None and not self._says_more(HOST_KEY, result.message):
                return []
            self.host_key = Severity.CRITICAL
            self.shown[HOST_KEY] = result.message
            return [ConditionChange(HOST_KEY, "", Severity.CRITICAL, at, result.message)]
        if result.metrics is None:
            if result.problem not in _CONNECTION_FAILURES:
                return self._reachable(at)  # it answered, though not readably
            self.failures += 1
            self._restart_threshold_timers()
            limit = rules["unreachable.polls"]
            due = (
                self.failures >= limit
                if self.unreachable is None
                else self._says_more(UNREACHABLE, result.message)
            )
            if not due:
                return []
            self.unreachable = Severity.CRITICAL
            self.shown[UNREACHABLE] = result.message
            return [
                ConditionChange(
                    UNREACHABLE,
                    "",
                    Severity.CRITICAL,
                    at,
                    f"{result.message} ({self.failures} checks in a row)",
                    value=self.failures,
                    threshold=limit,
                    unit=RULE_UNITS[UNREACHABLE],
                )
            ]
        changes = self._reachable(at)
        changes += self._thresholds(result.metrics, rules, at)
        changes += self._forecasts(result.metrics, rules, at)
        return changes

    def _reachable(self, at: int) -> list[ConditionChange]:
        changes = []
        if self.unreachable is not None:
            changes.append(
                ConditionChange(
                    UNREACHABLE,
                    "",
                    None,
                    at,
                    # after a restore the failed checks before it were not counted here
                    f"answering again after {self.failures} failed checks"
                    if self.failures
                    else "answering again",
                    value=0,
                    unit=RULE_UNITS[UNREACHABLE],
                )
            )
        if self.host_key is not None:
            changes.append(ConditionChange(HOST_KEY, "", None, at, "the host key matches again"))
        self.failures = 0
        self.unreachable = self.host_key = None
        self.shown.clear()
        return changes

    def _says_more(self, rule: str, message: str) -> bool:
        """Whether ``message`` adds a reason in front of what the open incident of ``rule``
        shows. After a restart, the first message is taken as shown."""
        shown = self.shown.setdefault(rule, message)
        return message != shown and message.endswith(f": {shown}")

    def _thresholds(self, metrics: HostMetrics, rules: RuleSet, at: int) -> list[ConditionChange]:
        readings = list(_readings(metrics, rules))
        seen = {(r.rule, r.subject) for r in readings}
        changes = []
        for reading in readings:
            change = self._threshold(reading, rules["hysteresis"], at)
            if change is not None:
                changes.append(change)
        for (rule, subject), state in self.thresholds.items():
            kind = _LEVELLED_BY_NAME[rule].subject
            gone = kind is not Subject.HOST and (rule, subject) not in seen
            if gone and state.active is not None:
                state.active = None
                changes.append(ConditionChange(rule, subject, None, at, f"{subject} {kind.gone}"))
        return changes

    def _threshold(self, r: _Reading, hysteresis: float, at: int) -> ConditionChange | None:
        state = self.thresholds.setdefault((r.rule, r.subject), _Threshold())
        if r.value < r.warning:
            state.warning_since = None
        elif state.warning_since is None:
            state.warning_since = at
        if r.value < r.critical:
            state.critical_since = None
        elif state.critical_since is None:
            state.critical_since = at
        duration = r.minutes * 60
        desired: Severity | None = None
        if state.critical_since is not None and at - state.critical_since >= duration:
            desired = Severity.CRITICAL
        elif state.warning_since is not None and at - state.warning_since >= duration:
            desired = Severity.WARNING
        current = state.active
        margin = 1 - hysteresis / 100
        if current is not None and _RANK[desired] < _RANK[current]:
            if current is Severity.CRITICAL and r.value >= r.critical * margin:
                desired = Severity.CRITICAL
            elif r.value >= r.warning * margin:
                desired = Severity.WARNING
        if desired is current:
            return None
        state.active = desired
        if desired is None:
            limit = r.warning * margin
            return ConditionChange(
                r.rule,
                r.subject,
                None,
                at,
                f"{r.label} back to {r.shown(r.value)} (below {r.shown(limit)})",
                value=r.value,
                threshold=limit,
                unit=r.unit,
            )
        threshold = r.critical if desired is Severity.CRITICAL else r.warning
        lasting = f" for {r.minutes:g} min" if r.minutes else ""
        return ConditionChange(
            r.rule,
            r.subject,
            desired,
            at,
            f"{r.label} at {r.shown(r.value)}{lasting} ({desired.value} from {r.shown(threshold)})",
            value=r.value,
            threshold=threshold,
            unit=r.unit,
        )

    def _forecasts(self, metrics: HostMetrics, rules: RuleSet, at: int) -> list[ConditionChange]:
        warning_hours = rules["disk_forecast.hours"]
        critical_hours = rules["disk_forecast.critical_hours"]
        changes = []
        mounts = set()
        for disk in metrics.disks:
            mounts.add(disk.mount)
            trend = self.trends.setdefault(disk.mount, DiskTrend())
            trend.add(at, disk.percent)
            hours = trend.hours_until_full()
            current = self.forecasts.get(disk.mount)
            if trend.ready:
                desired = _forecast_level(hours, warning_hours, critical_hours, current)
            else:
                # Too little data to judge (after a restore or a sleep): keep what was open.
                desired = current
            if disk.percent >= rules["disk.critical"]:
                desired = None  # the disk rule itself is already critical
            if desired is current:
                continue
            if desired is None:
                del self.forecasts[disk.mount]
                changes.append(
                    ConditionChange(
                        "disk_forecast",
                        disk.mount,
                        None,
                        at,
                        f"{disk.mount} is past the disk rule's critical level, which takes over"
                        if disk.percent >= rules["disk.critical"]
                        else f"{disk.mount} is no longer filling up fast",
                        value=hours,
                        unit=RULE_UNITS["disk_forecast"],
                    )
                )
                continue
            assert hours is not None
            self.forecasts[disk.mount] = desired
            limit = critical_hours if desired is Severity.CRITICAL else warning_hours
            changes.append(
                ConditionChange(
                    "disk_forecast",
                    disk.mount,
                    desired,
                    at,
                    f"{disk.mount} at {disk.percent:.0f}% will be full in about "
                    f"{_hours(hours)} at the current rate ({desired.value} within "
                    f"{limit:g} h)",
                    value=round(hours, 1),
                    threshold=limit,
                    unit=RULE_UNITS["disk_forecast"],
                )
            )
        for gone in (set(self.trends) | set(self.forecasts)) - mounts:
            self.trends.pop(gone, None)
            if self.forecasts.pop(gone, None) is not None:
                changes.append(
                    ConditionChange("disk_forecast", gone, None, at, f"{gone} is no longer mounted")
                )
        return changes


FORECAST_RECOVERY_FACTOR = 1.5


def _forecast_level(
    hours: float | None, warning: float, critical: float, current: Severity | None
) -> Severity | None:
    if hours is None:
        return None
    if critical > 0 and hours <= critical:
        return Severity.CRITICAL
    recovering = hours <= critical * FORECAST_RECOVERY_FACTOR
    if current is Severity.CRITICAL and critical > 0 and recovering:
        return Severity.CRITICAL
    if warning > 0 and hours <= warning:
        return Severity.WARNING
    if current is not None and warning > 0 and hours <= warning * FORECAST_RECOVERY_FACTOR:
        return Severity.WARNING
    return None


def _hours(hours: float) -> str:
    if hours < 1:
        return f"{max(hours * 60, 1):.0f} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} days"


def _readings(metrics: HostMetrics, rules: RuleSet) -> Iterable[_Reading]:
    for reading in readings(metrics):
        metric = reading.metric
        assert metric.levels is not None
        minutes = 0 if metric.levels.minutes is None else rules[metric.rule("minutes")]
        warning, critical = rules[metric.rule("warning")], rules[metric.rule("critical")]
        yield _Reading(metric, reading.subject, reading.value, warning, critical, minutes)

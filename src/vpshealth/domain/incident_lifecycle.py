"""The life of an incident: open, remind, escalate, flap, resolve — and when to say so.

One incident per (host, rule, subject). Pure and clock-free: the caller passes the time and a
``Policy`` per host (quiet start, silences, reminder and flapping settings). It returns what to
write and what to notify; it never decides twice for the same change."""

from __future__ import annotations

import dataclasses
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from vpshealth.domain.alert_conditions import ConditionChange, ConditionKey
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import SEVERITY_RANK, NotificationKind

IncidentKey = tuple[int, str, str]


@dataclass(frozen=True, slots=True)
class Policy:
    """How one host's incidents are treated right now. ``quiet``: the engine just started or
    the machine just woke up and this host has not been polled afresh yet. ``silenced``: a
    snooze or maintenance window covers the host."""

    quiet: bool = False
    silenced: bool = False
    reminder_seconds: float = 4 * 3600
    flap_cycles: int = 3
    flap_seconds: float = 30 * 60


@dataclass(slots=True)
class Incident:
    host_id: int
    rule: str
    subject: str
    severity: Severity
    opened_at: int
    message: str
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    app: str | None = None
    container_id: str = ""
    container_name: str = ""
    log_lines: str | None = None
    active: bool = True
    cleared_at: int | None = None
    last_notified_at: int | None = None
    acknowledged: bool = False
    flapping: bool = False
    reminders_sent: int = 0

    @property
    def key(self) -> IncidentKey:
        return (self.host_id, self.rule, self.subject)

    @property
    def notified(self) -> bool:
        """Whether anyone was told it opened: only then is its recovery worth a message."""
        return self.last_notified_at is not None


class WriteKind(StrEnum):
    OPEN = "open"
    UPDATE = "update"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class Write:
    """``replaces``: an UPDATE of the open incident of that rule, which moves to the
    incident's rule (same row)."""

    kind: WriteKind
    incident: Incident
    at: int
    resolution: str | None = None
    replaces: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NotificationKind
    incident: Incident
    at: int
    message: str


@dataclass(slots=True)
class Outcome:
    writes: list[Write] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def extend(self, other: Outcome) -> None:
        self.writes += other.writes
        self.notices += other.notices


def _snapshot(incident: Incident) -> Incident:
    return dataclasses.replace(incident)


class IncidentBook:
    def __init__(self) -> None:
        self._open: dict[IncidentKey, Incident] = {}
        self._cycles: dict[IncidentKey, deque[int]] = defaultdict(deque)

    def restore(self, incidents: Iterable[Incident]) -> None:
        for incident in incidents:
            self._open[incident.key] = incident

    def open_incidents(self, host_id: int | None = None) -> list[Incident]:
        return [i for i in self._open.values() if host_id is None or i.host_id == host_id]

    def active_conditions(self, host_id: int) -> dict[ConditionKey, Severity]:
        return {
            (i.rule, i.subject): i.severity
            for i in self._open.values()
            if i.host_id == host_id and i.active
        }

    def set_acknowledged(self, keys: set[IncidentKey]) -> None:
        for key, incident in self._open.items():
            incident.acknowledged = key in keys

    def drop(self, key: IncidentKey) -> None:
        """Forget one open incident (another process resolved it)."""
        self._open.pop(key, None)
        self._cycles.pop(key, None)

    def forget_host(self, host_id: int) -> None:
        for key in [k for k in self._open if k[0] == host_id]:
            del self._open[key]
        for key in [k for k in self._cycles if k[0] == host_id]:
            del self._cycles[key]

    def apply(self, host_id: int, change: ConditionChange, policy: Policy) -> Outcome:
        key = (host_id, change.rule, change.subject)
        if change.replaces is not None and change.severity is not None:
            moved = self._replace(key, change, policy)
            if moved is not None:
                return moved
        incident = self._open.get(key)
        if change.severity is None:
            return self._cleared(incident, change) if incident is not None else Outcome()
        if incident is None:
            return self._opened(key, change, policy)
        return self._changed(incident, change, policy)

    def _replace(self, key: IncidentKey, change: ConditionChange, policy: Policy) -> Outcome | None:
        """The open incident of ``change.replaces`` becomes ``change.rule``'s: same incident,
        worse (one escalation). None when there is none to move (then it opens as usual)."""
        assert change.replaces is not None
        old_key = (key[0], change.replaces, change.subject)
        incident = self._open.get(old_key)
        if incident is None:
            return None
        if key in self._open:  # both open (cannot come from one tracker): keep the newer rule's
            return self._resolve(incident, change.at, change.message)
        del self._open[old_key]
        incident.rule = change.rule
        self._open[key] = incident
        if old_key in self._cycles:
            self._cycles[key] = self._cycles.pop(old_key)
        outcome = self._changed(incident, change, policy, worse=True)
        outcome.writes = [
            dataclasses.replace(w, replaces=change.replaces) if w.kind is WriteKind.UPDATE else w
            for w in outcome.writes
        ]
        return outcome

    def _count_cycle(self, key: IncidentKey, at: int, policy: Policy) -> int:
        cycles = self._cycles[key]
        cycles.append(at)
        while cycles and at - cycles[0] > policy.flap_seconds:
            cycles.popleft()
        return len(cycles)

    def _opened(self, key: IncidentKey, change: ConditionChange, policy: Policy) -> Outcome:
        assert change.severity is not None
        flapping = self._count_cycle(key, change.at, policy) > policy.flap_cycles
        incident = Incident(
            host_id=key[0],
            rule=change.rule,
            subject=change.subject,
            severity=change.severity,
            opened_at=change.at,
            message=change.message,
            value=change.value,
            threshold=change.threshold,
            unit=change.unit,
            app=change.app,
            container_id=change.container_id,
            container_name=change.container_name,
            log_lines=change.log_lines,
            flapping=flapping,
        )
        self._open[key] = incident
        outcome = Outcome()
        if not policy.quiet and not policy.silenced:
            outcome.notices.append(self._announce(incident, change.at))
        outcome.writes.insert(0, Write(WriteKind.OPEN, _snapshot(incident), change.at))
        return outcome

    def _announce(self, incident: Incident, at: int) -> Notice:
        incident.last_notified_at = at
        if incident.flapping:
            cycles = len(self._cycles[incident.key])
            return Notice(
                NotificationKind.FLAPPING,
                _snapshot(incident),
                at,
                f"{incident.message} — flapping: {cycles} times recently; no more messages "
                "until it has been stable for a while",
            )
        return Notice(NotificationKind.OPENED, _snapshot(incident), at, incident.message)

    def _changed(
        self, incident: Incident, change: ConditionChange, policy: Policy, *, worse: bool = False
    ) -> Outcome:
        assert change.severity is not None
        outcome = Outcome()
        if not incident.active:
            incident.active = True
            incident.cleared_at = None
            self._count_cycle(incident.key, change.at, policy)
        raised = worse or SEVERITY_RANK[change.severity] > SEVERITY_RANK[incident.severity]
        incident.severity = change.severity
        incident.message = change.message
        incident.value = change.value
        incident.threshold = change.threshold
        if change.app is not None:
            incident.app = change.app
        if change.log_lines is not None:
            incident.log_lines = change.log_lines
        if (
            raised
            and incident.notified
            and not incident.acknowledged
            and not incident.flapping
            and not policy.quiet
            and not policy.silenced
        ):
            incident.last_notified_at = change.at
            outcome.notices.append(
                Notice(NotificationKind.ESCALATED, _snapshot(incident), change.at, change.message)
            )
        outcome.writes.append(Write(WriteKind.UPDATE, _snapshot(incident), change.at))
        return outcome

    def _cleared(self, incident: Incident, change: ConditionChange) -> Outcome:
        if incident.flapping:
            if not incident.active:
                return Outcome()  # already clear: a repeated resolve must not restart the wait
            incident.active = False
            incident.cleared_at = change.at
            incident.value = change.value
            return Outcome([Write(WriteKind.UPDATE, _snapshot(incident), change.at)])
        return self._resolve(incident, change.at, change.message)

    def _resolve(self, incident: Incident, at: int, resolution: str) -> Outcome:
        del self._open[incident.key]
        outcome = Outcome([Write(WriteKind.RESOLVE, _snapshot(incident), at, resolution)])
        if incident.notified:
            outcome.notices.append(
                Notice(NotificationKind.RESOLVED, _snapshot(incident), at, resolution)
            )
        return outcome

    def tick(self, now: int, policy_of: Callable[[int], Policy]) -> Outcome:
        """Time-driven steps: end flapping after a stable spell, announce what was held back
        by a quiet start or a silence, and send reminders."""
        outcome = Outcome()
        for incident in list(self._open.values()):
            policy = policy_of(incident.host_id)
            if incident.flapping and not incident.active:
                assert incident.cleared_at is not None
                if now - incident.cleared_at >= policy.flap_seconds:
                    outcome.extend(self._resolve(incident, now, "stable again after flapping"))
                continue
            if policy.quiet or policy.silenced or not incident.active:
                continue
            if not incident.notified:
                outcome.notices.append(self._announce(incident, now))
                outcome.writes.append(Write(WriteKind.UPDATE, _snapshot(incident), now))
                continue
            assert incident.last_notified_at is not None
            due = incident.last_notified_at + policy.reminder_seconds
            quiet_by_choice = incident.acknowledged or incident.flapping
            if quiet_by_choice or policy.reminder_seconds <= 0 or now < due:
                continue
            incident.last_notified_at = now
            incident.reminders_sent += 1
            outcome.notices.append(
                Notice(
                    NotificationKind.REMINDER,
                    _snapshot(incident),
                    now,
                    f"still open: {incident.message}",
                )
            )
            outcome.writes.append(Write(WriteKind.UPDATE, _snapshot(incident), now))
        return outcome

"""What the alerting tells people, independent of the channel that carries it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

from vpshealth.domain.containers import Severity


class NotificationKind(StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"
    REMINDER = "reminder"
    FLAPPING = "flapping"
    RESOLVED = "resolved"
    TEST = "test"


_SUMMARY_PREFIX = {
    NotificationKind.OPENED: "",
    NotificationKind.ESCALATED: "Worse: ",
    NotificationKind.REMINDER: "Still: ",
    NotificationKind.FLAPPING: "Flapping: ",
    NotificationKind.RESOLVED: "Resolved: ",
    NotificationKind.TEST: "Test: ",
}

SEVERITY_RANK = {Severity.WARNING: 1, Severity.CRITICAL: 2}


def at_least(severity: Severity, minimum: Severity) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[minimum]


@dataclass(frozen=True, slots=True)
class Notification:
    """One message about one incident. ``since`` is when the incident opened (Unix seconds);
    ``at`` is when this notification was raised. ``value`` / ``threshold`` are the current
    reading and the limit it broke, with ``unit`` (``%``, ``h``, ``polls`` ...), where the rule
    has them. ``app`` names the Coolify project / resource or compose project."""

    kind: NotificationKind
    severity: Severity
    host_name: str
    host_address: str
    rule: str
    subject: str
    title: str
    message: str
    since: int
    at: int
    incident_id: int | None = None
    host_id: int | None = None
    app: str | None = None
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    log_lines: str | None = None
    """The container's last log lines, for a crash, OOM kill or restart loop."""

    @property
    def summary(self) -> str:
        """One line for a desktop notification or a log: ``Resolved: web1: disk / filling up``."""
        return f"{_SUMMARY_PREFIX[self.kind]}{self.host_name}: {self.title}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["severity"] = self.severity.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notification:
        fields = dict(data)
        fields["kind"] = NotificationKind(fields["kind"])
        fields["severity"] = Severity(fields["severity"])
        return cls(**fields)


class Notifier(Protocol):
    """A channel that shows notifications right away (desktop, log). E-mail is not one of
    these: it goes through the durable outbox."""

    def notify(self, notifications: Sequence[Notification]) -> None: ...


def show_each(
    notifiers: Sequence[Notifier],
    notifications: Sequence[Notification],
    failed: Callable[[Notifier], None],
) -> None:
    """Hand the notifications to every notifier; one that raises does not keep them from the
    others (``failed`` is told, inside the ``except``)."""
    if not notifications:
        return
    for notifier in notifiers:
        try:
            notifier.notify(notifications)
        except Exception:
            failed(notifier)

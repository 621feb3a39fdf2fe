"""The desktop taking over the checks while its node is silent, and handing them back. Pure:
which of the copy's hosts this computer can log in to, the notifications that say so, and how
an incident the desktop handed back is matched with the node's (by identity: host, rule,
subject, opened time). See docs/sync.md, "Taking over"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vpshealth.domain.containers import Severity
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.domain.notifications import Notification, NotificationKind

RULE = "node_take_over"


@dataclass(frozen=True, slots=True)
class SkippedHost:
    host_id: int
    name: str
    why: str
    """What a person reads after the host's name: "is not checked while the node is silent:
    …"."""

    @property
    def message(self) -> str:
        return f"{self.name} is not checked while the node is silent: {self.why}"


@dataclass(frozen=True, slots=True)
class TakeoverPlan:
    checked: tuple[tuple[int, Host], ...]
    """The hosts (by the node's ids) this computer checks while taking over."""
    skipped: tuple[SkippedHost, ...] = ()

    @property
    def total(self) -> int:
        return len(self.checked) + len(self.skipped)

    @property
    def checked_ids(self) -> frozenset[int]:
        return frozenset(host_id for host_id, _ in self.checked)


def choose_hosts(
    hosts: Sequence[tuple[int, Host]], has_secret: Callable[[str], bool], *, agent: bool
) -> TakeoverPlan:
    """The enabled hosts this computer can log in to: an ``agent`` login when an ssh-agent
    runs here, a key whose reference is in this computer's secret store. Never the node's own
    ``localhost`` (that is the node, not this computer)."""
    checked: list[tuple[int, Host]] = []
    skipped: list[SkippedHost] = []
    for host_id, host in hosts:
        if not host.enabled:
            continue
        why = _why_not(host, has_secret, agent=agent)
        if why is None:
            checked.append((host_id, host))
        else:
            skipped.append(SkippedHost(host_id, host.name, why))
    return TakeoverPlan(tuple(checked), tuple(skipped))


def _why_not(host: Host, has_secret: Callable[[str], bool], *, agent: bool) -> str | None:
    if host.is_local:
        return "it is the node itself"
    if host.auth is AuthMethod.AGENT:
        if agent:
            return None
        return "it logs in with an ssh-agent, and none runs on this computer (SSH_AUTH_SOCK)"
    if host.auth is AuthMethod.KEY and host.key_ref is not None and has_secret(host.key_ref):
        return None
    return "its login key is on the node; use ssh-agent for it to let this computer take over"


def _notice(node: str, title: str, message: str, kind: NotificationKind, at: float) -> Notification:
    return Notification(
        kind=kind,
        severity=Severity.WARNING,
        host_name=node,
        host_address="",
        rule=RULE,
        subject="",
        title=title,
        message=message,
        since=int(at),
        at=int(at),
    )


def took_over(node: str, plan: TakeoverPlan, at: float) -> Notification:
    """ "The node is silent: this computer checks 4 of 6 servers until it is back"."""
    title = (
        f"the node is silent: this computer checks {len(plan.checked)} of {plan.total} "
        f"server{'s' if plan.total != 1 else ''} until it is back"
    )
    lines = [title[0].upper() + title[1:] + "."] + [s.message + "." for s in plan.skipped]
    return _notice(node, title, "\n".join(lines), NotificationKind.OPENED, at)


def handed_back(node: str, incidents: int, at: float) -> Notification:
    told = f"; told it of {incidents} incident{'s' if incidents != 1 else ''}" if incidents else ""
    title = f"the node is back: it runs the checks again{told}"
    return _notice(node, title, title[0].upper() + title[1:] + ".", NotificationKind.RESOLVED, at)


@dataclass(frozen=True, slots=True)
class HandedBack:
    """An incident the desktop saw while taking over, as it tells the node. ``notified_at``:
    when it last told someone of it (None: never); ``resolved_at``: None while still open;
    ``resolve_notified``: its recovery was announced too."""

    host_id: int
    rule: str
    subject: str
    opened_at: int
    severity: Severity
    message: str
    resolved_at: int | None = None
    notified_at: int | None = None
    resolve_notified: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "host_id": self.host_id,
            "rule": self.rule,
            "subject": self.subject,
            "opened_at": self.opened_at,
            "severity": self.severity.value,
            "message": self.message,
            "resolved_at": self.resolved_at,
            "notified_at": self.notified_at,
            "resolve_notified": self.resolve_notified,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> HandedBack:
        return cls(
            host_id=int(body["host_id"]),
            rule=str(body["rule"]),
            subject=str(body["subject"]),
            opened_at=int(body["opened_at"]),
            severity=Severity(body["severity"]),
            message=str(body.get("message", "")),
            resolved_at=_optional_int(body.get("resolved_at")),
            notified_at=_optional_int(body.get("notified_at")),
            resolve_notified=bool(body.get("resolve_notified", False)),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def same_incident(
    opened_at: int, resolved_at: int | None, handed: HandedBack, *, slack: int = 0
) -> bool:
    """Whether the node's incident of the same host, rule and subject (opened, resolved at
    those times) is the one the desktop handed back: the same opened time (an incident seeded
    from the node), or, for one each side opened on its own, the same spell: their open times
    overlap (``slack`` seconds of clock difference allowed)."""
    if opened_at == handed.opened_at:
        return True
    desk_end = handed.resolved_at
    opened_before_desk_end = desk_end is None or opened_at <= desk_end + slack
    desk_opened_before_node_end = resolved_at is None or handed.opened_at <= resolved_at + slack
    return opened_before_desk_end and desk_opened_before_node_end

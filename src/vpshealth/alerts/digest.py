"""One digest e-mail for a batch of notifications: its subject and its text and HTML bodies.
Pure: time comes in as an argument."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from vpshealth.alerts.email_templates import DIGEST_HTML, DIGEST_TEXT, render
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind

SUBJECT_PREFIX = "[VPS Health]"
MAX_SUBJECT_CHARS = 200

KIND_LABELS = {
    NotificationKind.OPENED: "Problem",
    NotificationKind.ESCALATED: "Got worse",
    NotificationKind.REMINDER: "Still a problem",
    NotificationKind.FLAPPING: "Flapping",
    NotificationKind.RESOLVED: "Resolved",
    NotificationKind.TEST: "Test",
}
_COLORS = {Severity.WARNING: "#d90", Severity.CRITICAL: "#c00"}
_RESOLVED_COLOR = "#2a2"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class ItemView:
    """What a template shows of one notification, already formatted."""

    label: str
    title: str
    host_name: str
    host_address: str
    app: str | None
    message: str
    since: str
    value: str | None
    at: str
    color: str
    log_lines: tuple[str, ...] = ()
    """The container's last log lines, one per item (none for a resolution)."""


def one_line(text: str) -> str:
    """No line breaks or control characters (header injection), collapsed spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def utc_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_text(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def number_text(value: float, unit: str) -> str:
    shown = f"{value:.1f}".removesuffix(".0")
    if not unit:
        return shown
    return f"{shown} {unit}" if unit != "%" else f"{shown} %"


def value_text(item: Notification) -> str | None:
    if item.value is None:
        return None
    current = number_text(item.value, item.unit)
    if item.threshold is None:
        return current
    return f"{current} (threshold {number_text(item.threshold, item.unit)})"


def label_of(item: Notification) -> str:
    if item.kind in (NotificationKind.RESOLVED, NotificationKind.TEST):
        return KIND_LABELS[item.kind].upper()
    return item.severity.value.upper()


def item_view(item: Notification) -> ItemView:
    if item.kind is NotificationKind.RESOLVED:
        since = f"{utc_time(item.since)} (lasted {duration_text(item.at - item.since)})"
        color = _RESOLVED_COLOR
    else:
        since = f"{utc_time(item.since)} (for {duration_text(item.at - item.since)})"
        color = _COLORS[item.severity]
    return ItemView(
        label=f"{label_of(item)} - {KIND_LABELS[item.kind]}",
        title=item.title,
        host_name=item.host_name,
        host_address=item.host_address,
        app=item.app,
        message=item.message,
        since=since,
        value=value_text(item),
        at=utc_time(item.at),
        color=color,
        log_lines=log_lines_of(item),
    )


def log_lines_of(item: Notification) -> tuple[str, ...]:
    if item.kind is NotificationKind.RESOLVED or not item.log_lines:
        return ()
    return tuple(item.log_lines.split("\n"))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary_line(items: Sequence[Notification]) -> str:
    """``3 problems on 2 servers``, ``2 problems, 1 resolved on 2 servers``."""
    resolved = sum(1 for i in items if i.kind is NotificationKind.RESOLVED)
    tests = sum(1 for i in items if i.kind is NotificationKind.TEST)
    problems = len(items) - resolved - tests
    parts = []
    if problems:
        parts.append(_plural(problems, "problem"))
    if resolved:
        parts.append(f"{resolved} resolved")
    if tests:
        parts.append(_plural(tests, "test"))
    servers = len({i.host_name for i in items})
    return f"{', '.join(parts)} on {_plural(servers, 'server')}"


def _lead(items: Sequence[Notification]) -> Notification:
    """The notification a one-server digest is named after: the worst problem still open at the
    end of the digest (the first raised among equals), else the first one. Of several about one
    incident, the latest says what it is now (a crash that became a restart loop)."""
    done = {(i.rule, i.subject) for i in items if i.kind is NotificationKind.RESOLVED}
    raised = [i for i in items if i.kind not in (NotificationKind.RESOLVED, NotificationKind.TEST)]
    latest: dict[int, Notification] = {}
    for item in sorted(raised, key=lambda i: i.at):
        if item.incident_id is not None:
            latest[item.incident_id] = item
    problems = [i for i in raised if i.incident_id is None or latest[i.incident_id] is i]
    still_open = [i for i in problems if (i.rule, i.subject) not in done] or problems
    if not still_open:
        return items[0]
    return min(still_open, key=lambda i: (i.severity is not Severity.CRITICAL, i.at))


def digest_subject(items: Sequence[Notification]) -> str:
    if not items:
        raise ValueError("a digest needs at least one notification")
    if len(items) == 1:
        item = items[0]
        subject = f"{SUBJECT_PREFIX} {label_of(item)} {item.host_name}: {item.title}"
    elif len({i.host_name for i in items}) == 1:
        lead = _lead(items)
        subject = (
            f"{SUBJECT_PREFIX} {label_of(lead)} {lead.host_name}: {lead.title} "
            f"(+{len(items) - 1} more)"
        )
    else:
        critical = any(
            i.severity is Severity.CRITICAL and i.kind is not NotificationKind.RESOLVED
            for i in items
        )
        subject = f"{SUBJECT_PREFIX} {'CRITICAL: ' if critical else ''}{summary_line(items)}"
    subject = one_line(subject)
    if len(subject) > MAX_SUBJECT_CHARS:
        subject = subject[: MAX_SUBJECT_CHARS - 3] + "..."
    return subject


def held_back_lines(held_back: Mapping[str, int], limit: int) -> list[str]:
    return [
        f"{_plural(count, 'more notification')} about {host} in the last hour "
        f"{'was' if count == 1 else 'were'} held back (limit: {limit} per server per hour)."
        for host, count in sorted(held_back.items())
        if count > 0
    ]


def render_digest(
    items: Sequence[Notification],
    now: float,
    *,
    held_back: Mapping[str, int] | None = None,
    limit_per_hour: int = 0,
) -> RenderedEmail:
    """``held_back``: per server name, how many notifications the rate limit kept back."""
    subject = digest_subject(items)
    ordered = sorted(items, key=lambda i: (i.at, i.host_name))
    context = {
        "subject": subject,
        "summary": "VPS Health: " + summary_line(ordered) + ".",
        "items": [item_view(i) for i in ordered],
        "held_back": held_back_lines(held_back or {}, limit_per_hour),
        "generated_at": utc_time(now),
    }
    return RenderedEmail(
        subject=subject,
        text=render(DIGEST_TEXT, context),
        html=render(DIGEST_HTML, context),
    )

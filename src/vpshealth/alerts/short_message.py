"""A digest as a short message for chat and push channels (ntfy, Telegram, Discord ...): a
title with the severity and the server, and per notification a few lines naming the app, what
happened and since when, with the container's last log lines where the incident has them.
The full digest goes to e-mail. Pure: time comes in as an argument."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from vpshealth.alerts.digest import (
    KIND_LABELS,
    SUBJECT_PREFIX,
    digest_subject,
    duration_text,
    held_back_lines,
    log_lines_of,
    one_line,
    utc_time,
)
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind

APP_NAME: Final = "VPS Health"
MAX_ITEMS: Final = 5
MAX_LOG_LINES: Final = 5
MAX_LOG_LINE_CHARS: Final = 160
MAX_TITLE_CHARS: Final = 120
MAX_BODY_CHARS: Final = 1800
"""Below Discord's 2,000 characters, the smallest limit of the common chat services."""


class Level(StrEnum):
    """What a message is, for a push service's priority and tags."""

    CRITICAL = "critical"
    WARNING = "warning"
    RESOLVED = "resolved"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class ShortMessage:
    title: str
    body: str
    level: Level


def level_of(items: Sequence[Notification]) -> Level:
    """The worst problem among ``items``; ``resolved`` when all are resolutions, ``test`` when
    all are tests."""
    raised = [i for i in items if i.kind not in (NotificationKind.RESOLVED, NotificationKind.TEST)]
    if any(i.severity is Severity.CRITICAL for i in raised):
        return Level.CRITICAL
    if raised:
        return Level.WARNING
    if any(i.kind is NotificationKind.RESOLVED for i in items):
        return Level.RESOLVED
    return Level.TEST


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_title(items: Sequence[Notification]) -> str:
    """``CRITICAL web-1: container shop/web crashed``: the e-mail subject without its prefix."""
    subject = digest_subject(items).removeprefix(SUBJECT_PREFIX).strip()
    return _cut(subject, MAX_TITLE_CHARS)


def item_lines(item: Notification) -> list[str]:
    where = f"{item.host_name} ({item.host_address})" if item.host_address else item.host_name
    lines = [f"{KIND_LABELS[item.kind]} on {where}: {one_line(item.title)}"]
    if item.app:
        lines.append(f"App: {one_line(item.app)}")
    if item.message and one_line(item.message) != one_line(item.title):
        lines.append(one_line(item.message))
    if item.kind is NotificationKind.RESOLVED:
        lines.append(f"Since {utc_time(item.since)}, lasted {duration_text(item.at - item.since)}")
    elif item.kind is not NotificationKind.TEST:
        lines.append(f"Since {utc_time(item.since)} ({duration_text(item.at - item.since)})")
    logs = log_lines_of(item)[-MAX_LOG_LINES:]
    if logs:
        lines.append("Last log lines:")
        lines += [f"  {_cut(one_line(line), MAX_LOG_LINE_CHARS)}" for line in logs]
    return lines


def render_short(
    items: Sequence[Notification],
    now: float,
    *,
    held_back: Mapping[str, int] | None = None,
    limit_per_hour: int = 0,
) -> ShortMessage:
    if not items:
        raise ValueError("a message needs at least one notification")
    ordered = sorted(items, key=lambda i: (i.at, i.host_name))
    blocks = ["\n".join(item_lines(i)) for i in ordered[:MAX_ITEMS]]
    if len(ordered) > MAX_ITEMS:
        blocks.append(f"… and {len(ordered) - MAX_ITEMS} more (see the e-mail or the app).")
    blocks += held_back_lines(held_back or {}, limit_per_hour)
    footer = f"{APP_NAME}, {utc_time(now)}"
    body = _cut("\n\n".join(blocks), MAX_BODY_CHARS - len(footer) - 2) + "\n\n" + footer
    return ShortMessage(title=short_title(items), body=body, level=level_of(items))

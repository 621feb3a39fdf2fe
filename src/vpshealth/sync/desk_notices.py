"""The node's notifications shown on this desktop, each once: after every catch-up, those the
copy received since the cursor ``sync.notified_after`` go to the desktop's notifiers, then the
cursor moves past them. Each desktop keeps its own copy, so its own cursor: reconnects,
restarts and other desktops do not show anything twice. A new copy starts at the node's newest
notification (connecting does not replay the node's past). After a long absence, one summary
takes the place of a burst."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind, Notifier, show_each
from vpshealth.store.notification_feed import NotificationFeed
from vpshealth.store.settings_repository import SettingsRepository

log = logging.getLogger(__name__)

NOTIFIED_AFTER_KEY = "sync.notified_after"
BURST = 3
"""More notifications than this waiting at once: one summary instead."""
AWAY_SECONDS = 15 * 60
"""A waiting notification older than this: the desktop was away, one summary instead."""
SUMMARY_RULE = "summary"
_PAGE = 500
_COUNTED = (
    (NotificationKind.OPENED, "opened"),
    (NotificationKind.ESCALATED, "got worse"),
    (NotificationKind.FLAPPING, "flapping"),
    (NotificationKind.RESOLVED, "resolved"),
    (NotificationKind.REMINDER, "still open"),
    (NotificationKind.TEST, "test"),
)
_SHOWN_IN_SUMMARY = 5


@dataclass(frozen=True, slots=True)
class NoticeRule:
    burst: int = BURST
    away_seconds: float = AWAY_SECONDS


def to_show(
    waiting: Sequence[Notification], now: float, rule: NoticeRule = NoticeRule()
) -> list[Notification]:
    """What the desktop shows for the notifications ``waiting`` (oldest first): each of them,
    or one summary when there are more than ``rule.burst`` of them or the oldest is older than
    ``rule.away_seconds``."""
    if not waiting:
        return []
    oldest = min(n.at for n in waiting)
    if len(waiting) <= rule.burst and now - oldest <= rule.away_seconds:
        return list(waiting)
    return [summary(waiting, now)]


def summary(waiting: Sequence[Notification], now: float) -> Notification:
    """ "While you were away: 3 incidents opened, 2 resolved"; critical while an incident
    raised critical among them is not resolved among them. Its message lists the last few."""
    counts = Counter(n.kind for n in waiting)
    parts = [(counts[kind], label) for kind, label in _COUNTED if counts[kind]]
    first, label = parts[0]
    words = [f"{first} {'incident' if first == 1 else 'incidents'} {label}"]
    words += [f"{count} {label}" for count, label in parts[1:]]
    resolved = {_identity(n) for n in waiting if _resolves(n)}
    still = [n for n in waiting if not _resolves(n) and _identity(n) not in resolved]
    critical = any(n.severity is Severity.CRITICAL for n in still)
    lines = [n.summary for n in waiting[-_SHOWN_IN_SUMMARY:]]
    if len(waiting) > _SHOWN_IN_SUMMARY:
        lines.insert(0, f"… and {len(waiting) - _SHOWN_IN_SUMMARY} earlier")
    return Notification(
        kind=NotificationKind.OPENED,
        severity=Severity.CRITICAL if critical else Severity.WARNING,
        host_name="While you were away",
        host_address="",
        rule=SUMMARY_RULE,
        subject="",
        title=", ".join(words),
        message="\n".join(lines),
        since=min(n.since for n in waiting),
        at=int(now),
    )


def _identity(n: Notification) -> tuple[str, str, str]:
    return (n.host_name, n.rule, n.subject)


def _resolves(n: Notification) -> bool:
    return n.kind in (NotificationKind.RESOLVED, NotificationKind.TEST)


class DeskNotices:
    """``waiting`` and ``mark_shown`` are blocking (the copy): run them off the event loop,
    and show what ``waiting`` gives on it, between the two."""

    def __init__(
        self, copy: Engine, notifiers: Sequence[Notifier], rule: NoticeRule = NoticeRule()
    ) -> None:
        self._copy = copy
        self._notifiers = tuple(notifiers)
        self._rule = rule
        self._feed = NotificationFeed(copy)
        self._settings = SettingsRepository(copy)

    def waiting(self, now: float) -> tuple[list[Notification], int | None]:
        """What to show of what came since the cursor, and the id to move the cursor to
        once shown (None: nothing came)."""
        cursor = self._settings.get(NOTIFIED_AFTER_KEY)
        if not isinstance(cursor, int) or isinstance(cursor, bool):
            newest = self._feed.last_id()
            self._settings.update({NOTIFIED_AFTER_KEY: newest}, int(now))
            return [], None
        waiting: list[Notification] = []
        last = cursor
        while True:
            found_last, found = self._feed.after(last, _PAGE)
            if found_last == last:
                break
            waiting.extend(found)
            last = found_last
        if last == cursor:
            return [], None
        return to_show(waiting, now, self._rule), last

    def show(self, shown: Sequence[Notification]) -> None:
        show_each(self._notifiers, shown, _failed)

    def mark_shown(self, last: int, now: float) -> None:
        self._settings.update({NOTIFIED_AFTER_KEY: last}, int(now))

    def after_sync(self, now: float) -> list[Notification]:
        """Blocking, all in one: show what came since the cursor; returns what was shown."""
        shown, last = self.waiting(now)
        self.show(shown)
        if last is not None:
            self.mark_shown(last, now)
        return shown


def _failed(_notifier: Notifier) -> None:
    log.exception("Could not show the node's notifications on this desktop")

"""Watching the watcher: the node is "silent" when the follower has not reached it for longer
than the alarm's threshold (``Settings.node_silence_alarm_seconds``, default 3 minutes). Then
one notification says so, with the reason, and one more when the node is back. The silence
starts at the first failure noticed: a node that stopped answering is noticed after a request
timeout or the live stream's ping timeout."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from vpshealth.domain.containers import Severity
from vpshealth.domain.humanize import duration
from vpshealth.domain.notifications import Notification, NotificationKind, Notifier, show_each
from vpshealth.sync.node_session import NodeProblem

log = logging.getLogger(__name__)

SILENCE_ALARM_SECONDS = 180.0
RULE = "node_silent"

_REASONS = {
    NodeProblem.API_NOT_ANSWERING: "down: its API does not answer",
    NodeProblem.NOT_A_NODE: "down: its API does not answer as a VPS Health node",
    NodeProblem.UNREACHABLE: "network: it cannot be reached",
    NodeProblem.TLS: "network: its TLS certificate is not trusted",
    NodeProblem.TOKEN_REFUSED: "token revoked: it refuses this computer's token",
    NodeProblem.FORBIDDEN: "token refused: it is read-only",
    NodeProblem.HOST_KEY_CHANGED: "host key changed: its SSH host key is not the one trusted",
    NodeProblem.HOST_KEY_NOT_TRUSTED: "host key changed: its SSH host key is not trusted",
    NodeProblem.LOGIN_REFUSED: "SSH login refused",
    NodeProblem.KEY_MISSING: "SSH login key missing from the keyring",
}


def reason(problem: NodeProblem) -> str:
    """The reason as a person reads it: "down: …", "network: …", "token revoked: …"."""
    return _REASONS.get(problem, problem.value)


@dataclass(slots=True)
class SilenceAlarm:
    """Pure state: told of each failure and each time the node was reached, it answers with
    the notification to show (at most one per silence, and one when it ends)."""

    node: str
    """The node as named in messages."""
    threshold: float = SILENCE_ALARM_SECONDS
    failing_since: float | None = None
    silent_since: float | None = None
    """Set once the alarm went off: when the silence began."""
    problem: NodeProblem | None = None

    def failed(self, now: float, problem: NodeProblem, detail: str = "") -> Notification | None:
        if self.failing_since is None:
            self.failing_since = now
        self.problem = problem
        if self.silent_since is not None or now - self.failing_since < self.threshold:
            return None
        self.silent_since = self.failing_since
        began = datetime.fromtimestamp(self.silent_since, UTC).strftime("%H:%M UTC")
        return Notification(
            kind=NotificationKind.OPENED,
            severity=Severity.CRITICAL,
            host_name=self.node,
            host_address="",
            rule=RULE,
            subject="",
            title=f"the node is silent since {began} ({reason(problem)})",
            message=detail or reason(problem),
            since=int(self.silent_since),
            at=int(now),
        )

    def reached(self, now: float) -> Notification | None:
        silent_since = self.silent_since
        self.failing_since = self.silent_since = self.problem = None
        if silent_since is None:
            return None
        return Notification(
            kind=NotificationKind.RESOLVED,
            severity=Severity.CRITICAL,
            host_name=self.node,
            host_address="",
            rule=RULE,
            subject="",
            title=f"the node is back: caught up {duration(now - silent_since)}",
            message=f"The node was silent for {duration(now - silent_since)}; the local copy "
            "is caught up.",
            since=int(silent_since),
            at=int(now),
        )


class NodeWatch:
    """The alarm and the notifiers that show what it says."""

    def __init__(self, alarm: SilenceAlarm, notifiers: Sequence[Notifier] = ()) -> None:
        self.alarm = alarm
        self._notifiers = tuple(notifiers)

    def failed(self, now: float, problem: NodeProblem, detail: str = "") -> None:
        self._show(self.alarm.failed(now, problem, detail))

    def reached(self, now: float) -> None:
        self._show(self.alarm.reached(now))

    def _show(self, notification: Notification | None) -> None:
        if notification is None:
            return
        log.warning("Node: %s", notification.summary)
        show_each(self._notifiers, [notification], _failed)


def _failed(_notifier: Notifier) -> None:
    log.exception("Could not show the node's state on this desktop")

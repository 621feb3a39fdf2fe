"""What the window and the tray say of the linked node: the offline banner and the tray's
line. Pure (no Qt)."""

from __future__ import annotations

from collections.abc import Callable

from vpshealth.domain import humanize
from vpshealth.sync.follower import FollowerStatus
from vpshealth.sync.node_session import NodeProblem

PROBLEM_TEXT = {
    NodeProblem.UNREACHABLE: "the node does not answer (down, or the network)",
    NodeProblem.HOST_KEY_CHANGED: "the node's SSH host key changed",
    NodeProblem.HOST_KEY_NOT_TRUSTED: "the node's SSH host key is not trusted",
    NodeProblem.LOGIN_REFUSED: "the node refused the SSH login",
    NodeProblem.KEY_MISSING: "the SSH login key is missing",
    NodeProblem.TLS: "the node's certificate is not trusted",
    NodeProblem.API_NOT_ANSWERING: "the node's API does not answer",
    NodeProblem.TOKEN_REFUSED: "the node refused the token (revoked?)",
    NodeProblem.FORBIDDEN: "the token may only read",
    NodeProblem.NOT_A_NODE: "the address is not a VPS Health node",
}


def is_offline(status: FollowerStatus) -> bool:
    """Not following the node, and it failed at least once (not just connecting)."""
    return not status.connected and (
        status.last_error is not None
        or status.problem is not None
        or status.silent_since is not None
    )


def reason_of(status: FollowerStatus) -> str | None:
    if status.last_error:
        return status.last_error
    return PROBLEM_TEXT.get(status.problem) if status.problem is not None else None


def last_synced(status: FollowerStatus, now: float) -> str:
    at = status.last_synced_at
    return "never synced yet" if at is None else f"last synced {humanize.ago(at, now)}"


def offline_banner(status: FollowerStatus | None, now: float) -> str | None:
    """ "Offline — last synced 2 h ago: why", or None while the node is followed."""
    if status is None or not is_offline(status):
        return None
    reason = reason_of(status)
    text = f"Offline — {last_synced(status, now)}"
    return f"{text}: {reason}" if reason else text


def node_tray_line(status: FollowerStatus, now: float, local_time: Callable[[float], str]) -> str:
    """The tray tooltip's line on the node: connected, catching up, or silent since when."""
    if status.connected:
        return "Node: connected" if status.pending_since is None else "Node: catching up"
    if status.silent_since is not None:
        reason = reason_of(status)
        since = f"Node silent since {local_time(status.silent_since)}"
        return f"{since} ({reason})" if reason else since
    if is_offline(status):
        return f"Node: offline, {last_synced(status, now)}"
    return "Node: connecting, catching up"

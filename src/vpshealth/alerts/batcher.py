"""Which pending notifications go out now, as one digest of a channel: the batching window,
the minimum severity and the per-server rate limit. Pure: time and counts come in as
arguments."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from vpshealth.alerts.channel import ChannelSettings, Digest
from vpshealth.domain.notifications import at_least
from vpshealth.store.notification_queue import Claim, PendingNotification, RecentCounts
from vpshealth.store.outbox_repository import OutboxDraft

Render = Callable[[Digest], OutboxDraft]


def window_closed(pending: Sequence[PendingNotification], now: float, batch_seconds: int) -> bool:
    """A batch goes out once its oldest notification has waited ``batch_seconds``: everything
    raised within that window travels together, and a steady stream cannot hold it back."""
    return bool(pending) and min(p.created_at for p in pending) + batch_seconds <= now


def plan_claim(
    pending: Sequence[PendingNotification],
    counts: RecentCounts,
    config: ChannelSettings,
    now: float,
    render: Render,
) -> Claim:
    """Below ``min_severity``: skipped at once. The rest wait for the window; then, per server
    and oldest first, up to ``max_per_host_per_hour`` notifications an hour go into the
    message (``render``) and the others are held back (``rate_limited``) and counted in the
    digest."""
    skipped = [p.id for p in pending if not at_least(p.notification.severity, config.min_severity)]
    eligible = [p for p in pending if p.id not in set(skipped)]
    if not window_closed(eligible, now, config.batch_seconds):
        return Claim(skipped=skipped)
    used: Counter[int] = Counter(counts.queued)
    queued: list[PendingNotification] = []
    limited: list[PendingNotification] = []
    for item in sorted(eligible, key=lambda p: (p.created_at, p.id)):
        if item.host_id is not None and used[item.host_id] >= config.max_per_host_per_hour:
            limited.append(item)
            continue
        if item.host_id is not None:
            used[item.host_id] += 1
        queued.append(item)
    draft = None
    if queued:
        draft = render(
            Digest(
                [p.notification for p in queued],
                now,
                held_back=_held_back(queued, limited, counts),
                limit_per_hour=config.max_per_host_per_hour,
            )
        )
    return Claim(
        queued=[p.id for p in queued],
        skipped=skipped,
        rate_limited=[p.id for p in limited],
        draft=draft,
    )


def _held_back(
    queued: Sequence[PendingNotification],
    limited: Sequence[PendingNotification],
    counts: RecentCounts,
) -> dict[str, int]:
    """Per server in this digest: notifications held back in the last hour, these included."""
    names = {p.host_id: p.notification.host_name for p in [*queued, *limited] if p.host_id}
    now_limited = Counter(p.host_id for p in limited)
    found = {
        name: now_limited[host_id] + counts.rate_limited.get(host_id, 0)
        for host_id, name in names.items()
    }
    return {name: count for name, count in found.items() if count}

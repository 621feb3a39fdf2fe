"""The notifications waiting for one durable channel, and claiming a batch of them into one
outbox message in a single transaction.

A channel takes on every notification newer than the last one it has a delivery row for: the
alerting writes notifications without knowing the channels, and the channel's queue adds its
rows (``pending``, or ``skipped`` while the channel is not usable) as it goes. A channel with
no rows yet (new, or never used) starts with the notifications raised from ``since`` on; a
channel added to a database with a history passes the time it was added, so that it does not
announce a backlog of old problems."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlalchemy import Connection, Engine, func, insert, literal, select, update

from vpshealth.domain.notifications import Notification
from vpshealth.store.id_lists import one_of
from vpshealth.store.outbox_repository import OutboxDraft, insert_draft
from vpshealth.store.schema import notification_deliveries as deliveries
from vpshealth.store.schema import notifications

log = logging.getLogger(__name__)

MAX_BATCH_ROWS = 500
HOUR = 3600


class DeliveryState(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    SKIPPED = "skipped"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class PendingNotification:
    id: int
    host_id: int | None
    created_at: int
    notification: Notification


@dataclass(frozen=True, slots=True)
class RecentCounts:
    """Per host, over the last hour: notifications put into messages, and held back."""

    queued: Mapping[int, int] = field(default_factory=dict)
    rate_limited: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Claim:
    """What to do with the pending rows: ``queued`` go into ``draft`` (one outbox message)."""

    queued: Sequence[int] = ()
    skipped: Sequence[int] = ()
    rate_limited: Sequence[int] = ()
    draft: OutboxDraft | None = None


Decide = Callable[[Sequence[PendingNotification], RecentCounts], Claim]


@contextmanager
def immediate_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction taken up front (``BEGIN IMMEDIATE``), so that what is read inside
    cannot change before it is written, and the write lock waits on ``busy_timeout`` instead of
    failing when another writer came first."""
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


class NotificationQueue:
    def __init__(self, engine: Engine, channel: str, *, since: int) -> None:
        self._engine = engine
        self._channel = channel
        self._since = since
        self._floor: int | None = None

    @property
    def channel(self) -> str:
        return self._channel

    def has_pending(self) -> bool:
        """A read, so that a quiet queue never takes the write lock."""
        with self._engine.connect() as conn:
            if self._newest(conn) > self._taken_up_to(conn):
                return True
            found = conn.execute(
                select(deliveries.c.notification_id)
                .where(
                    deliveries.c.channel == self._channel,
                    deliveries.c.state == DeliveryState.PENDING.value,
                )
                .limit(1)
            ).first()
        return found is not None

    def skip_pending(self) -> int:
        """Mark every pending notification ``skipped`` (the channel is not usable)."""
        if not self.has_pending():
            return 0
        with immediate_transaction(self._engine) as conn:
            added = self._take_on(conn, DeliveryState.SKIPPED)
            result = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.channel == self._channel,
                    deliveries.c.state == DeliveryState.PENDING.value,
                )
                .values(state=DeliveryState.SKIPPED.value)
            )
        return added + int(result.rowcount)

    def claim(self, now: int, decide: Decide) -> int | None:
        """In one transaction: read the pending notifications, let ``decide`` sort them, write
        the outbox message and update every notification's state. Returns the new outbox id."""
        if not self.has_pending():
            return None
        with immediate_transaction(self._engine) as conn:
            self._take_on(conn, DeliveryState.PENDING)
            pending, broken = self._pending(conn)
            if broken:
                self._set_state(conn, broken, DeliveryState.SKIPPED)
            if not pending:
                return None
            hosts = {p.host_id for p in pending if p.host_id is not None}
            claim = decide(pending, self._recent_counts(conn, hosts, now - HOUR))
            self._set_state(conn, claim.skipped, DeliveryState.SKIPPED)
            self._set_state(conn, claim.rate_limited, DeliveryState.RATE_LIMITED)
            if claim.draft is None or not claim.queued:
                return None
            outbox_id = insert_draft(conn, replace(claim.draft, channel=self._channel), now)
            self._set_state(conn, claim.queued, DeliveryState.QUEUED, outbox_id=outbox_id)
            return outbox_id

    def states(self) -> dict[int, str]:
        """Every notification's state for this channel, by id, those not taken on yet as
        ``pending`` (for tests and diagnostics)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.notification_id, deliveries.c.state).where(
                    deliveries.c.channel == self._channel
                )
            )
            found = {int(row.notification_id): str(row.state) for row in rows}
            newer = conn.execute(
                select(notifications.c.id).where(notifications.c.id > self._taken_up_to(conn))
            ).scalars()
            return found | dict.fromkeys(map(int, newer), DeliveryState.PENDING.value)

    def _newest(self, conn: Connection) -> int:
        return int(conn.execute(select(func.max(notifications.c.id))).scalar() or 0)

    def _taken_up_to(self, conn: Connection) -> int:
        """The newest notification this channel has a row for; without any, the newest raised
        before ``since`` (read once: notifications are never rewritten)."""
        last = conn.execute(
            select(func.max(deliveries.c.notification_id)).where(
                deliveries.c.channel == self._channel
            )
        ).scalar()
        if last is not None:
            return int(last)
        if self._floor is None:
            self._floor = int(
                conn.execute(
                    select(func.max(notifications.c.id)).where(
                        notifications.c.created_at < self._since
                    )
                ).scalar()
                or 0
            )
        return self._floor

    def _take_on(self, conn: Connection, state: DeliveryState) -> int:
        """Add a row in ``state`` for every notification newer than the ones taken on."""
        result = conn.execute(
            insert(deliveries).from_select(
                ["channel", "notification_id", "state"],
                select(literal(self._channel), notifications.c.id, literal(state.value)).where(
                    notifications.c.id > self._taken_up_to(conn)
                ),
            )
        )
        return int(result.rowcount)

    def _pending(self, conn: Connection) -> tuple[list[PendingNotification], list[int]]:
        rows = conn.execute(
            select(
                notifications.c.id,
                notifications.c.host_id,
                notifications.c.created_at,
                notifications.c.payload,
            )
            .join(deliveries, deliveries.c.notification_id == notifications.c.id)
            .where(
                deliveries.c.channel == self._channel,
                deliveries.c.state == DeliveryState.PENDING.value,
            )
            .order_by(notifications.c.created_at, notifications.c.id)
            .limit(MAX_BATCH_ROWS)
        )
        pending: list[PendingNotification] = []
        broken: list[int] = []
        for row in rows:
            try:
                item = Notification.from_json(json.loads(row.payload))
            except (ValueError, TypeError, KeyError) as exc:
                log.error(
                    "Notification %s has an unreadable payload (%s); not sent by %s",
                    row.id,
                    exc,
                    self._channel,
                )
                broken.append(int(row.id))
                continue
            pending.append(PendingNotification(int(row.id), row.host_id, int(row.created_at), item))
        return pending, broken

    def _recent_counts(self, conn: Connection, hosts: set[int], since: int) -> RecentCounts:
        if not hosts:
            return RecentCounts()
        rows = conn.execute(
            select(notifications.c.host_id, deliveries.c.state, func.count())
            .join(deliveries, deliveries.c.notification_id == notifications.c.id)
            .where(
                deliveries.c.channel == self._channel,
                one_of(notifications.c.host_id, hosts),
                notifications.c.created_at >= since,
                deliveries.c.state.in_(
                    [DeliveryState.QUEUED.value, DeliveryState.RATE_LIMITED.value]
                ),
            )
            .group_by(notifications.c.host_id, deliveries.c.state)
        ).all()
        queued = {int(h): int(n) for h, s, n in rows if s == DeliveryState.QUEUED.value}
        limited = {int(h): int(n) for h, s, n in rows if s == DeliveryState.RATE_LIMITED.value}
        return RecentCounts(queued, limited)

    def _set_state(
        self,
        conn: Connection,
        ids: Sequence[int],
        state: DeliveryState,
        *,
        outbox_id: int | None = None,
    ) -> None:
        if not ids:
            return
        values: dict[str, object] = {"state": state.value}
        if outbox_id is not None:
            values["outbox_id"] = outbox_id
        conn.execute(
            update(deliveries)
            .where(
                deliveries.c.channel == self._channel,
                one_of(deliveries.c.notification_id, ids),
                deliveries.c.state == DeliveryState.PENDING.value,
            )
            .values(**values)
        )

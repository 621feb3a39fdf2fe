"""The notifications waiting for the e-mail channel, and claiming a batch of them into one
outbox message in a single transaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Connection, Engine, func, select, update

from vpshealth.domain.notifications import Notification
from vpshealth.store.id_lists import one_of
from vpshealth.store.outbox_repository import OutboxDraft, insert_draft
from vpshealth.store.schema import notifications

log = logging.getLogger(__name__)

MAX_BATCH_ROWS = 500
HOUR = 3600


class EmailState(StrEnum):
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
    """Per host, over the last hour: notifications put into e-mails, and held back."""

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
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def has_pending(self) -> bool:
        """A read, so that a quiet queue never takes the write lock."""
        with self._engine.connect() as conn:
            found = conn.execute(
                select(notifications.c.id)
                .where(notifications.c.email_state == EmailState.PENDING.value)
                .limit(1)
            ).first()
        return found is not None

    def skip_pending(self) -> int:
        """Mark every pending notification ``skipped`` (e-mail not configured)."""
        if not self.has_pending():
            return 0
        with self._engine.begin() as conn:
            result = conn.execute(
                update(notifications)
                .where(notifications.c.email_state == EmailState.PENDING.value)
                .values(email_state=EmailState.SKIPPED.value)
            )
        return int(result.rowcount)

    def claim(self, now: int, decide: Decide) -> int | None:
        """In one transaction: read the pending notifications, let ``decide`` sort them, write
        the outbox message and update every notification's state. Returns the new outbox id."""
        if not self.has_pending():
            return None
        with immediate_transaction(self._engine) as conn:
            pending, broken = _pending(conn)
            if broken:
                _set_state(conn, broken, EmailState.SKIPPED)
            if not pending:
                return None
            hosts = {p.host_id for p in pending if p.host_id is not None}
            claim = decide(pending, _recent_counts(conn, hosts, now - HOUR))
            _set_state(conn, claim.skipped, EmailState.SKIPPED)
            _set_state(conn, claim.rate_limited, EmailState.RATE_LIMITED)
            if claim.draft is None or not claim.queued:
                return None
            outbox_id = insert_draft(conn, claim.draft, now)
            _set_state(conn, claim.queued, EmailState.QUEUED, outbox_id=outbox_id)
            return outbox_id

    def states(self) -> dict[int, str]:
        """Every notification's e-mail state, by id (for tests and diagnostics)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(notifications.c.id, notifications.c.email_state))
            return {int(row.id): str(row.email_state) for row in rows}


def _pending(conn: Connection) -> tuple[list[PendingNotification], list[int]]:
    rows = conn.execute(
        select(
            notifications.c.id,
            notifications.c.host_id,
            notifications.c.created_at,
            notifications.c.payload,
        )
        .where(notifications.c.email_state == EmailState.PENDING.value)
        .order_by(notifications.c.created_at, notifications.c.id)
        .limit(MAX_BATCH_ROWS)
    )
    pending: list[PendingNotification] = []
    broken: list[int] = []
    for row in rows:
        try:
            item = Notification.from_json(json.loads(row.payload))
        except (ValueError, TypeError, KeyError) as exc:
            log.error("Notification %s has an unreadable payload (%s); not e-mailed", row.id, exc)
            broken.append(int(row.id))
            continue
        pending.append(PendingNotification(int(row.id), row.host_id, int(row.created_at), item))
    return pending, broken


def _recent_counts(conn: Connection, hosts: set[int], since: int) -> RecentCounts:
    if not hosts:
        return RecentCounts()
    rows = conn.execute(
        select(notifications.c.host_id, notifications.c.email_state, func.count())
        .where(
            one_of(notifications.c.host_id, hosts),
            notifications.c.created_at >= since,
            notifications.c.email_state.in_(
                [EmailState.QUEUED.value, EmailState.RATE_LIMITED.value]
            ),
        )
        .group_by(notifications.c.host_id, notifications.c.email_state)
    ).all()
    queued = {int(h): int(n) for h, s, n in rows if s == EmailState.QUEUED.value}
    limited = {int(h): int(n) for h, s, n in rows if s == EmailState.RATE_LIMITED.value}
    return RecentCounts(queued, limited)


def _set_state(
    conn: Connection, ids: Sequence[int], state: EmailState, *, outbox_id: int | None = None
) -> None:
    if not ids:
        return
    values: dict[str, object] = {"email_state": state.value}
    if outbox_id is not None:
        values["outbox_id"] = outbox_id
    conn.execute(
        update(notifications)
        .where(
            one_of(notifications.c.id, ids),
            notifications.c.email_state == EmailState.PENDING.value,
        )
        .values(**values)
    )

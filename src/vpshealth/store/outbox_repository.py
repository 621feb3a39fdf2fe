"""The durable outbox: a message is written before any attempt to send it, keeps its
Message-ID across retries, and is marked sent only after the server accepted it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, update

from vpshealth.store.schema import outbox


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxDraft:
    """A rendered message about to be queued."""

    channel: str
    message_id: str
    subject: str
    body_text: str
    body_html: str | None
    recipients: tuple[str, ...]
    level: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    channel: str
    created_at: int
    message_id: str
    subject: str
    body_text: str
    body_html: str | None
    recipients: tuple[str, ...]
    attempts: int
    next_attempt_at: int
    sent_at: int | None
    last_error: str | None
    status: OutboxStatus
    level: str | None = None


def _message(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        channel=row.channel,
        created_at=row.created_at,
        message_id=row.message_id,
        subject=row.subject,
        body_text=row.body_text,
        body_html=row.body_html,
        recipients=tuple(json.loads(row.recipients)),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        status=OutboxStatus(row.status),
        level=row.level,
    )


def insert_draft(conn: Connection, draft: OutboxDraft, now: int) -> int:
    """Queue a message inside the caller's transaction; due at once. Returns its id."""
    result = conn.execute(
        outbox.insert().values(
            channel=draft.channel,
            created_at=now,
            message_id=draft.message_id,
            subject=draft.subject,
            body_text=draft.body_text,
            body_html=draft.body_html,
            recipients=json.dumps(list(draft.recipients)),
            attempts=0,
            next_attempt_at=now,
            status=OutboxStatus.PENDING.value,
            level=draft.level,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class OutboxRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, draft: OutboxDraft, now: int) -> int:
        with self._engine.begin() as conn:
            return insert_draft(conn, draft, now)

    def due(self, now: int, channel: str, limit: int = 20) -> list[OutboxMessage]:
        """Pending messages whose next attempt is due, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(
                    outbox.c.status == OutboxStatus.PENDING.value,
                    outbox.c.next_attempt_at <= now,
                    outbox.c.channel == channel,
                )
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(limit)
            )
            return [_message(row) for row in rows]

    def begin_attempt(self, message_id: int, retry_at: int) -> None:
        """Count the attempt and push the next one out *before* sending: if the process dies
        mid-send, the message is tried again at ``retry_at``, not in a tight loop."""
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id)
                .values(attempts=outbox.c.attempts + 1, next_attempt_at=retry_at)
            )

    def mark_sent(self, message_id: int, now: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id)
                .values(status=OutboxStatus.SENT.value, sent_at=now)
            )

    def record_failure(self, message_id: int, error: str, *, give_up: bool) -> None:
        """Keep the error; ``give_up`` marks the message failed for good."""
        values: dict[str, Any] = {"last_error": error}
        if give_up:
            values["status"] = OutboxStatus.FAILED.value
        with self._engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == message_id).values(**values))

    def list(
        self, statuses: Sequence[OutboxStatus] | None = None, limit: int = 100
    ) -> list[OutboxMessage]:
        """The newest messages first."""
        query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if statuses:
            query = query.where(outbox.c.status.in_([s.value for s in statuses]))
        with self._engine.connect() as conn:
            return [_message(row) for row in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.status, func.count()).group_by(outbox.c.status)
            ).all()
        return {str(status): int(count) for status, count in rows}

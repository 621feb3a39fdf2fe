"""The edits a desktop made while its node did not answer, kept in its copy of the node
(``pending_edits``) until they are sent, in the order made. Each is one request of the node's
API, applied there whole or not at all. Blocking: call it off the event loop."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from vpshealth.store.schema import pending_edits

REPORTS_KEPT = 20
"""How many reports of edits the node refused (or applied in part) are kept for `node
status`."""


@dataclass(frozen=True, slots=True)
class Edit:
    """One request of the node's write API."""

    summary: str
    """What the user did, as a command says it: ``host edit web1``."""
    method: str
    path: str
    body: Any = None


@dataclass(frozen=True, slots=True)
class QueuedEdit:
    id: int
    made_at: float
    edit: Edit
    outcome: str | None = None
    """None: waiting; else what became of it (a refusal, fields the node kept)."""
    done_at: float | None = None


class EditQueue:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put(self, edit: Edit, now: float) -> int:
        body = None if edit.body is None else json.dumps(edit.body)
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(pending_edits).values(
                    made_at=now, summary=edit.summary, method=edit.method, path=edit.path, body=body
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def waiting(self) -> list[QueuedEdit]:
        """The edits not sent yet, oldest first."""
        return self._select(pending_edits.c.done_at.is_(None))

    def reports(self) -> list[QueuedEdit]:
        """What became of the queued edits the node did not apply as made, oldest first."""
        return self._select(pending_edits.c.done_at.is_not(None))

    def _select(self, where: Any) -> list[QueuedEdit]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(pending_edits).where(where).order_by(pending_edits.c.id)
            ).all()
        return [
            QueuedEdit(
                r.id,
                r.made_at,
                Edit(r.summary, r.method, r.path, None if r.body is None else json.loads(r.body)),
                r.outcome,
                r.done_at,
            )
            for r in rows
        ]

    def applied(self, edit_id: int) -> None:
        """The node applied the edit as made: it leaves the queue."""
        with self._engine.begin() as conn:
            conn.execute(delete(pending_edits).where(pending_edits.c.id == edit_id))

    def settled(self, edit_id: int, outcome: str, now: float) -> None:
        """The node refused the edit, or kept some of its fields: it leaves the queue, and
        ``outcome`` is kept for the user (the newest ``REPORTS_KEPT``)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(pending_edits)
                .where(pending_edits.c.id == edit_id)
                .values(outcome=outcome, done_at=now)
            )
            old = (
                select(pending_edits.c.id)
                .where(pending_edits.c.done_at.is_not(None))
                .order_by(pending_edits.c.id.desc())
                .offset(REPORTS_KEPT)
            )
            conn.execute(delete(pending_edits).where(pending_edits.c.id.in_(old)))

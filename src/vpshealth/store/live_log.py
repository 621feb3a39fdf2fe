"""The live stream's log (table ``live_log``): messages are appended in the transaction of what
they report, read back by sequence number for a client that resumes, and pruned by age. What
pruning removed is remembered per kind (``complete_from``), so that a client resuming from
before it can be told that it missed messages."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.domain.live import KIND_NAMES, LiveDraft, LiveKind, LiveMessage, iso
from vpshealth.store.id_lists import one_of
from vpshealth.store.schema import hosts, incidents, live_log, settings

PAGE_SIZE = 500
PRUNE_CHUNK = 5000
_COMPLETE_FROM_KEY = "live.complete_from."
_INSERT = "INSERT INTO live_log (at, kind, host_id, payload) VALUES (?, ?, ?, ?)"


def append(conn: Connection, drafts: Sequence[LiveDraft]) -> list[LiveMessage]:
    """Insert the messages in the caller's transaction and number them. The transaction holds
    SQLite's write lock, so the numbers of one statement follow each other."""
    if not drafts:
        return []
    rows = [
        (d.at, d.kind.value, d.host_id, json.dumps({"host": d.host, "data": d.data},
                                                   separators=(",", ":")))
        for d in drafts
    ]  # fmt: skip
    conn.exec_driver_sql(_INSERT, rows)
    last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
    first = last - len(drafts) + 1
    return [draft.numbered(first + i) for i, draft in enumerate(drafts)]


def append_change(engine: Engine, at: float) -> list[LiveMessage]:
    """Record that an edit was made (a ``change`` message, in its own transaction)."""
    with engine.begin() as conn:
        return append(conn, [LiveDraft(LiveKind.CHANGE, at, None, None, {})])


def _message(row: Any) -> LiveMessage:
    payload = json.loads(row.payload)
    return LiveMessage(
        row.seq, LiveKind(row.kind), row.at, row.host_id, payload["host"], payload["data"]
    )


@dataclass(frozen=True, slots=True)
class Pruned:
    rows: int
    done: bool


class LiveLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def after(
        self, seq: int, kinds: Collection[LiveKind], limit: int = PAGE_SIZE
    ) -> list[LiveMessage]:
        """The next page of messages after ``seq``, of these kinds, in order."""
        query = select(live_log).where(live_log.c.seq > seq)
        if set(kinds) != set(LiveKind):
            # `kind || ''`: walk the primary key from `seq`; on the (kind, at) index SQLite
            # would read and sort every message of the kinds for each page.
            query = query.where(live_log.c.kind.concat("").in_([k.value for k in kinds]))
        query = query.order_by(live_log.c.seq).limit(limit)
        with self._engine.connect() as conn:
            return [_message(row) for row in conn.execute(query)]

    def between(self, low: int, high: int) -> list[LiveMessage]:
        """Messages with ``low < seq < high``, of every kind: those another process wrote."""
        query = (
            select(live_log)
            .where(live_log.c.seq > low, live_log.c.seq < high)
            .order_by(live_log.c.seq)
        )
        with self._engine.connect() as conn:
            return [_message(row) for row in conn.execute(query)]

    def last_seq(self) -> int:
        """The newest sequence number, 0 for an empty log (a pruned one remembers its end)."""
        with self._engine.connect() as conn:
            newest = conn.execute(select(func.max(live_log.c.seq))).scalar()
            if newest is None:
                newest = conn.exec_driver_sql(
                    "SELECT seq FROM sqlite_sequence WHERE name = 'live_log'"
                ).scalar()
        return int(newest or 0)

    def complete_from(self) -> dict[LiveKind, int]:
        """Per kind, the first sequence number from which no message has been pruned (kinds
        never pruned are left out)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(settings.c.key, settings.c.value).where(
                    settings.c.key.startswith(_COMPLETE_FROM_KEY)
                )
            )
            found = {row.key[len(_COMPLETE_FROM_KEY) :]: int(json.loads(row.value)) for row in rows}
        return {LiveKind(k): v for k, v in found.items() if k in KIND_NAMES}

    def prune(
        self, kinds: Collection[LiveKind], before: float, now: int, limit: int = PRUNE_CHUNK
    ) -> Pruned:
        """Delete up to ``limit`` messages of these kinds older than ``before``, in one
        transaction that also moves each kind's ``complete_from`` past them."""
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(live_log.c.seq, live_log.c.kind)
                .where(live_log.c.kind.in_([k.value for k in kinds]), live_log.c.at < before)
                .limit(limit)
            ).all()
            if not rows:
                return Pruned(0, True)
            conn.execute(delete(live_log).where(one_of(live_log.c.seq, [r.seq for r in rows])))
            newest: dict[str, int] = {}
            for row in rows:
                newest[row.kind] = max(newest.get(row.kind, 0), row.seq)
            for kind, seq in newest.items():
                _raise_complete_from(conn, kind, seq + 1, now)
        return Pruned(len(rows), len(rows) < limit)


def _raise_complete_from(conn: Connection, kind: str, seq: int, now: int) -> None:
    key = _COMPLETE_FROM_KEY + kind
    current = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()
    if current is not None and int(json.loads(current)) >= seq:
        return
    conn.execute(
        sqlite_insert(settings)
        .values(key=key, value=json.dumps(seq), updated_at=now)
        .on_conflict_do_update(
            index_elements=["key"], set_={"value": json.dumps(seq), "updated_at": now}
        )
    )


def incident_draft(
    conn: Connection,
    host_id: int,
    host: str | None,
    rule: str,
    subject: str,
    *,
    event: str,
    at: float,
) -> LiveDraft | None:
    """The incident's row as it is now in this transaction (the newest of its key), as an
    ``incident`` message; ``event``: opened, updated, acknowledged or resolved."""
    row = conn.execute(
        select(incidents)
        .where(incidents.c.host_id == host_id, incidents.c.kind == rule,
               incidents.c.subject == subject)
        .order_by(incidents.c.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    if row is None:
        return None
    return LiveDraft(LiveKind.INCIDENT, at, host_id, host, _incident_data(row, event))


def incident_draft_by_id(
    conn: Connection, incident_id: int, event: str, at: float
) -> LiveDraft | None:
    row = conn.execute(
        select(incidents, hosts.c.name.label("host_name"))
        .join(hosts, hosts.c.id == incidents.c.host_id)
        .where(incidents.c.id == incident_id)
    ).first()
    if row is None:
        return None
    return LiveDraft(LiveKind.INCIDENT, at, row.host_id, row.host_name, _incident_data(row, event))


def _incident_data(row: Any, event: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "event": event,
        "rule": row.kind,
        "subject": row.subject,
        "severity": row.severity,
        "app": row.app,
        "container": row.container_name or None,
        "message": row.message,
        "opened_at": iso(row.opened_at),
        "resolved_at": None if row.resolved_at is None else iso(row.resolved_at),
        "resolution": row.resolution,
        "acknowledged": row.acknowledged_at is not None,
        "flapping": bool(row.flapping),
        "value": row.value,
        "threshold": row.threshold,
    }

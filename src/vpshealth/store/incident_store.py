"""Writing what the incident lifecycle decided: incident rows, the event log, the
notifications (which the e-mail outbox picks up) and the live stream's messages about them.
One transaction per batch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.domain.alert_conditions import RULE_UNITS
from vpshealth.domain.containers import Severity
from vpshealth.domain.incident_lifecycle import Incident, IncidentKey, Write, WriteKind
from vpshealth.domain.live import LiveDraft, LiveKind, LiveMessage, iso
from vpshealth.domain.notifications import Notification
from vpshealth.store import live_log
from vpshealth.store.schema import events, hosts, incidents, notifications


@dataclass(frozen=True, slots=True)
class Saved:
    """The notifications recorded (with their incident ids), and the live messages."""

    notifications: list[Notification]
    live: list[LiveMessage]


def _key_filter(key: IncidentKey) -> list[Any]:
    host_id, rule, subject = key
    return [
        incidents.c.host_id == host_id,
        incidents.c.kind == rule,
        incidents.c.subject == subject,
    ]


def _row_values(incident: Incident) -> dict[str, Any]:
    return {
        "severity": incident.severity.value,
        "message": incident.message,
        "value": incident.value,
        "threshold": incident.threshold,
        "app": incident.app,
        "last_notified_at": incident.last_notified_at,
        "reminders_sent": incident.reminders_sent,
        "flapping": incident.flapping,
        "log_lines": incident.log_lines,
    }


def _write(conn: Connection, write: Write) -> str | None:
    """Apply one write; returns what happened to the incident (opened, updated, resolved), or
    None when nothing did."""
    incident = write.incident
    open_row = [*_key_filter(incident.key), incidents.c.resolved_at.is_(None)]
    if write.kind is WriteKind.OPEN:
        result = conn.execute(
            sqlite_insert(incidents)
            .values(
                host_id=incident.host_id,
                kind=incident.rule,
                subject=incident.subject,
                container_id=incident.container_id,
                container_name=incident.container_name,
                opened_at=incident.opened_at,
                **_row_values(incident),
            )
            .on_conflict_do_nothing()
        )
        if result.rowcount:
            conn.execute(
                insert(events).values(
                    host_id=incident.host_id,
                    at=write.at,
                    kind="incident_opened",
                    problem=incident.rule,
                    message=incident.message,
                )
            )
            return "opened"
        # another process (a one-off check) opened it first
        write_kind = WriteKind.UPDATE
    else:
        write_kind = write.kind
    if write_kind is WriteKind.UPDATE and write.replaces is not None:
        return _move(conn, write)
    if write_kind is WriteKind.UPDATE:
        result = conn.execute(update(incidents).where(*open_row).values(**_row_values(incident)))
        return "updated" if result.rowcount else None
    result = conn.execute(
        update(incidents)
        .where(*open_row)
        .values(resolved_at=write.at, resolution=write.resolution, **_row_values(incident))
    )
    if not result.rowcount:
        return None
    conn.execute(
        insert(events).values(
            host_id=incident.host_id,
            at=write.at,
            kind="incident_resolved",
            problem=incident.rule,
            message=write.resolution or incident.message,
        )
    )
    return "resolved"


def _move(conn: Connection, write: Write) -> str | None:
    """The open incident of ``write.replaces`` becomes the incident's rule: the same row (id,
    opening time, acknowledgement), its kind and message changed. If the new rule's incident
    is open already (another process opened it), the old one is resolved into it instead."""
    incident = write.incident
    assert write.replaces is not None
    old_key = (incident.host_id, write.replaces, incident.subject)
    old_row = [*_key_filter(old_key), incidents.c.resolved_at.is_(None)]
    new_row = [*_key_filter(incident.key), incidents.c.resolved_at.is_(None)]
    if conn.execute(select(incidents.c.id).where(*new_row)).first() is not None:
        conn.execute(
            update(incidents)
            .where(*old_row)
            .values(resolved_at=write.at, resolution=incident.message)
        )
        result = conn.execute(update(incidents).where(*new_row).values(**_row_values(incident)))
        return "updated" if result.rowcount else None
    result = conn.execute(
        update(incidents).where(*old_row).values(kind=incident.rule, **_row_values(incident))
    )
    if result.rowcount:
        return "updated"
    return _write(conn, Write(WriteKind.OPEN, incident, write.at))  # nothing to move: open it


def _incident_id(
    conn: Connection, notification: Notification, moved: dict[IncidentKey, IncidentKey]
) -> int | None:
    """``moved``: incidents that changed rule in this batch (old key -> new key): a
    notification raised before the move is about the same row."""
    if notification.host_id is None:
        return None
    key = (notification.host_id, notification.rule, notification.subject)
    key = moved.get(key, key)
    found: int | None = conn.execute(
        select(incidents.c.id).where(*_key_filter(key)).order_by(incidents.c.id.desc()).limit(1)
    ).scalar()
    return found


class IncidentStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, writes: Sequence[Write], raised: Sequence[Notification]) -> list[Notification]:
        """Apply the writes and record the notifications (for the channels to take on); returns
        the notifications with their incident ids filled in."""
        return self.save_batch(writes, raised).notifications

    def save_batch(self, writes: Sequence[Write], raised: Sequence[Notification]) -> Saved:
        saved: list[Notification] = []
        drafts: list[LiveDraft] = []
        if not writes and not raised:
            return Saved(saved, [])
        with self._engine.begin() as conn:
            existing = {row[0]: row[1] for row in conn.execute(select(hosts.c.id, hosts.c.name))}
            moved: dict[IncidentKey, IncidentKey] = {}
            for write in writes:
                host_id = write.incident.host_id
                if host_id not in existing:
                    continue
                if write.replaces is not None:
                    incident = write.incident
                    moved[(host_id, write.replaces, incident.subject)] = incident.key
                event = _write(conn, write)
                if event is not None:
                    draft = live_log.incident_draft(
                        conn,
                        host_id,
                        existing[host_id],
                        write.incident.rule,
                        write.incident.subject,
                        event=event,
                        at=write.at,
                    )
                    if draft is not None:
                        drafts.append(draft)
            for notification in raised:
                if notification.host_id is not None and notification.host_id not in existing:
                    continue
                incident_id = _incident_id(conn, notification, moved)
                complete = Notification.from_json(
                    {**notification.to_json(), "incident_id": incident_id}
                )
                inserted = conn.execute(
                    insert(notifications).values(
                        incident_id=incident_id,
                        host_id=complete.host_id,
                        kind=complete.kind.value,
                        severity=complete.severity.value,
                        created_at=complete.at,
                        payload=json.dumps(complete.to_json()),
                    )
                )
                saved.append(complete)
                drafts.append(_notification_draft(complete, int(inserted.lastrowid)))
            live = live_log.append(conn, drafts)
        return Saved(saved, live)

    def load_open(self) -> list[Incident]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(incidents).where(incidents.c.resolved_at.is_(None)))
            return [
                Incident(
                    host_id=row.host_id,
                    rule=row.kind,
                    subject=row.subject,
                    severity=Severity(row.severity),
                    opened_at=row.opened_at,
                    message=row.message,
                    value=row.value,
                    threshold=row.threshold,
                    unit=RULE_UNITS.get(row.kind, ""),
                    app=row.app,
                    container_id=row.container_id,
                    container_name=row.container_name,
                    last_notified_at=row.last_notified_at,
                    acknowledged=row.acknowledged_at is not None,
                    flapping=bool(row.flapping),
                    reminders_sent=row.reminders_sent,
                    log_lines=row.log_lines,
                )
                for row in rows
            ]

    def acknowledged(self) -> set[IncidentKey]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(incidents.c.host_id, incidents.c.kind, incidents.c.subject).where(
                    incidents.c.resolved_at.is_(None), incidents.c.acknowledged_at.is_not(None)
                )
            )
            return {(row.host_id, row.kind, row.subject) for row in rows}


LIVE_LOG_CHARS = 1000
"""The most of a notification's log lines the live stream carries (its end: the crash); the
whole of them are in the incident."""


def _notification_draft(notification: Notification, notification_id: int) -> LiveDraft:
    lines = notification.log_lines
    data = {
        **notification.to_json(),
        "log_lines": lines[-LIVE_LOG_CHARS:] if lines else None,
        "id": notification_id,
        "since": iso(notification.since),
        "at": iso(notification.at),
    }
    return LiveDraft(
        LiveKind.NOTIFICATION,
        float(notification.at),
        notification.host_id,
        notification.host_name,
        data,
    )

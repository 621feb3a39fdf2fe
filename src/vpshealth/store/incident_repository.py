"""Reading incidents and acting on them (acknowledge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, func, select, update

from vpshealth.store import live_log
from vpshealth.store.schema import hosts, incidents


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: int
    host_id: int
    host_name: str
    host_address: str
    rule: str
    subject: str
    severity: str
    opened_at: int
    resolved_at: int | None
    message: str
    resolution: str | None
    app: str | None
    container_name: str
    value: float | None
    threshold: float | None
    acknowledged_at: int | None
    last_notified_at: int | None
    reminders_sent: int
    flapping: bool
    log_lines: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


def _record(row: Row[Any]) -> IncidentRecord:
    return IncidentRecord(
        id=row.id,
        host_id=row.host_id,
        host_name=row.host_name,
        host_address=row.host_address,
        rule=row.kind,
        subject=row.subject,
        severity=row.severity,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        message=row.message,
        resolution=row.resolution,
        app=row.app,
        container_name=row.container_name,
        value=row.value,
        threshold=row.threshold,
        acknowledged_at=row.acknowledged_at,
        last_notified_at=row.last_notified_at,
        reminders_sent=row.reminders_sent,
        flapping=bool(row.flapping),
        log_lines=row.log_lines,
    )


_COLUMNS = (
    *incidents.c,
    hosts.c.name.label("host_name"),
    hosts.c.address.label("host_address"),
)


class IncidentRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def page(
        self, *, open_only: bool, host_id: int | None, before: int | None, limit: int
    ) -> list[IncidentRecord]:
        """Newest recorded first (by id), those recorded before the one with id ``before``."""
        query = select(*_COLUMNS).join(hosts, hosts.c.id == incidents.c.host_id)
        if open_only:
            query = query.where(incidents.c.resolved_at.is_(None))
        if host_id is not None:
            query = query.where(incidents.c.host_id == host_id)
        if before is not None:
            query = query.where(incidents.c.id < before)
        query = query.order_by(incidents.c.id.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def list(
        self, *, open_only: bool = False, host_id: int | None = None, limit: int = 200
    ) -> list[IncidentRecord]:
        """Newest first: open ones, or open and recent ones."""
        query = select(*_COLUMNS).join(hosts, hosts.c.id == incidents.c.host_id)
        if open_only:
            query = query.where(incidents.c.resolved_at.is_(None))
        if host_id is not None:
            query = query.where(incidents.c.host_id == host_id)
        query = query.order_by(incidents.c.opened_at.desc(), incidents.c.id.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def open_counts(self) -> dict[int, int]:
        """Per host id, how many of its incidents are open (hosts without any left out)."""
        query = (
            select(incidents.c.host_id, func.count())
            .where(incidents.c.resolved_at.is_(None))
            .group_by(incidents.c.host_id)
        )
        with self._engine.connect() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(query)}

    def get(self, incident_id: int) -> IncidentRecord | None:
        query = (
            select(*_COLUMNS)
            .join(hosts, hosts.c.id == incidents.c.host_id)
            .where(incidents.c.id == incident_id)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return _record(row) if row is not None else None

    def acknowledge(self, incident_id: int, at: int) -> bool:
        """Mark an open incident acknowledged: it notifies nothing more until resolved. False
        when there is no such open incident (or it was acknowledged already)."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(incidents)
                .where(
                    incidents.c.id == incident_id,
                    incidents.c.resolved_at.is_(None),
                    incidents.c.acknowledged_at.is_(None),
                )
                .values(acknowledged_at=at)
            )
            if result.rowcount:
                draft = live_log.incident_draft_by_id(conn, incident_id, "acknowledged", at)
                live_log.append(conn, [draft] if draft is not None else [])
        return bool(result.rowcount)

    def open_counts_by_severity(self) -> dict[str, int]:
        """How many incidents are open, by severity (severities without any left out)."""
        query = (
            select(incidents.c.severity, func.count())
            .where(incidents.c.resolved_at.is_(None))
            .group_by(incidents.c.severity)
        )
        with self._engine.connect() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(query)}

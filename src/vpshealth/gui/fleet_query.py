"""The cheap reads the dashboard repeats every few seconds. Blocking: run in a worker thread."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Engine, case, func, or_, select

from vpshealth.domain.containers import Severity
from vpshealth.domain.health import HostState
from vpshealth.domain.notifications import Notification
from vpshealth.store.host_repository import HostRecord, HostRepository
from vpshealth.store.schema import containers, incidents, notifications, silences
from vpshealth.store.settings_repository import SettingsRepository


@dataclass(frozen=True, slots=True)
class ContainerCounts:
    running: int
    total: int


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    records: tuple[HostRecord, ...]
    containers: dict[int, ContainerCounts] = field(default_factory=dict)
    open_incidents: dict[int, int] = field(default_factory=dict)
    snoozed_until: int | None = None
    desktop_min_severity: Severity = Severity.WARNING

    def record(self, host_id: int) -> HostRecord | None:
        return next((r for r in self.records if r.id == host_id), None)

    def states(self) -> dict[int, HostState]:
        return {r.id: r.status.state for r in self.records if r.status is not None}


def read_fleet(engine: Engine, now: int) -> FleetSnapshot:
    records = tuple(HostRepository(engine).list())
    with engine.connect() as conn:
        container_rows = conn.execute(
            select(
                containers.c.host_id,
                func.count(),
                func.sum(case((containers.c.state == "running", 1), else_=0)),
            ).group_by(containers.c.host_id)
        )
        counts = {row[0]: ContainerCounts(int(row[2] or 0), int(row[1])) for row in container_rows}
        incident_rows = conn.execute(
            select(incidents.c.host_id, func.count())
            .where(incidents.c.resolved_at.is_(None))
            .group_by(incidents.c.host_id)
        )
        open_incidents = {row[0]: int(row[1]) for row in incident_rows}
        snoozed_until = conn.execute(
            select(func.max(silences.c.ends_at)).where(
                silences.c.host_id.is_(None),
                silences.c.kind == "snooze",
                or_(silences.c.starts_at.is_(None), silences.c.starts_at <= now),
                silences.c.ends_at > now,
            )
        ).scalar()
    minimum = SettingsRepository(engine).desktop_min_severity()
    return FleetSnapshot(records, counts, open_incidents, snoozed_until, minimum)


def last_notification_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(notifications.c.id))).scalar() or 0)


def notifications_after(
    engine: Engine, after_id: int, limit: int = 50
) -> tuple[int, list[Notification]]:
    """Notifications the alerting raised since ``after_id`` (another process's, when the
    background service runs the checks), and the id to continue from."""
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(notifications.c.id, notifications.c.payload)
                .where(notifications.c.id > after_id)
                .order_by(notifications.c.id)
                .limit(limit)
            )
        )
    found = []
    for row in rows:
        try:
            found.append(Notification.from_json(json.loads(row.payload)))
        except (KeyError, TypeError, ValueError):
            continue
    return (rows[-1].id if rows else after_id), found

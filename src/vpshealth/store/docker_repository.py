"""Containers as last seen, and container incidents: rows to domain objects and back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, case, delete, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.domain.container_identity import group_of
from vpshealth.domain.containers import (
    Container,
    ContainerGroup,
    ContainerIncident,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    GroupKind,
    Health,
    IncidentKind,
)
from vpshealth.store.schema import containers, events, incidents


@dataclass(frozen=True, slots=True)
class DockerMemory:
    """What the database remembers of a host's Docker, to continue from after a restart."""

    containers: tuple[Container, ...]
    open_incidents: tuple[ContainerIncident, ...]
    seen_at: int


@dataclass(frozen=True, slots=True)
class ContainerCounts:
    running: int
    total: int


@dataclass(frozen=True, slots=True)
class StoredContainer:
    view: ContainerView
    seen_at: int


def _container_values(view: ContainerView, seen_at: int) -> dict[str, Any]:
    c, m = view.container, view.metrics
    return {
        "name": c.name,
        "image": c.image,
        "created": c.created,
        "state": c.state.value,
        "health": c.health.value,
        "failing_streak": c.failing_streak,
        "restart_count": c.restart_count,
        "exit_code": c.exit_code,
        "oom_killed": c.oom_killed,
        "started_at": c.started_at,
        "finished_at": c.finished_at,
        "group_kind": c.group.kind.value,
        "project": c.group.project,
        "environment": c.group.environment,
        "resource": c.group.resource,
        "service": c.group.service,
        "infrastructure": c.group.infrastructure,
        "ports": json.dumps(list(c.ports)),
        "labels": json.dumps(dict(c.labels)),
        "cpu_percent": m.cpu_percent,
        "memory_bytes": m.memory_bytes,
        "memory_limit_bytes": m.memory_limit_bytes,
        "seen_at": seen_at,
    }


def _group_from_row(row: Row[Any], labels: tuple[tuple[str, str], ...]) -> ContainerGroup:
    """The group as the parsers make it from the stored labels, name and image (this gives
    the identity: uuid, pull request, member); the stored columns for a row kept without
    labels."""
    if labels:
        return group_of(dict(labels), row.name, row.image)
    return ContainerGroup(
        GroupKind(row.group_kind),
        row.project,
        row.environment,
        row.resource,
        row.service,
        row.infrastructure,
    )


def _container_from_row(row: Row[Any]) -> StoredContainer:
    labels = tuple(sorted(json.loads(row.labels).items()))
    container = Container(
        id=row.container_id,
        name=row.name,
        image=row.image,
        created=row.created,
        state=ContainerState(row.state),
        health=Health(row.health),
        failing_streak=row.failing_streak,
        restart_count=row.restart_count,
        exit_code=row.exit_code,
        oom_killed=row.oom_killed,
        started_at=row.started_at,
        finished_at=row.finished_at,
        ports=tuple(json.loads(row.ports)),
        labels=labels,
        group=_group_from_row(row, labels),
    )
    metrics = ContainerMetrics(row.cpu_percent, row.memory_bytes, row.memory_limit_bytes)
    return StoredContainer(ContainerView(container, metrics), row.seen_at)


def _incident_from_row(row: Row[Any]) -> ContainerIncident:
    return ContainerIncident(
        kind=IncidentKind(row.kind),
        opened=row.resolved_at is None,
        at=row.opened_at,
        container_id=row.container_id,
        container_name=row.container_name,
        app=row.app,
        message=row.message,
    )


def replace_containers(
    conn: Connection, host_id: int, views: Sequence[ContainerView], seen_at: int
) -> None:
    current = [v.container.id for v in views]
    conn.execute(
        delete(containers).where(
            containers.c.host_id == host_id, containers.c.container_id.not_in(current)
        )
    )
    for view in views:
        values = _container_values(view, seen_at)
        conn.execute(
            sqlite_insert(containers)
            .values(host_id=host_id, container_id=view.container.id, **values)
            .on_conflict_do_update(index_elements=["host_id", "container_id"], set_=values)
        )


def record_incident(conn: Connection, host_id: int, incident: ContainerIncident) -> bool:
    """Open or resolve; returns False when it changed nothing (already open / not open). One
    that ``replaces`` an open incident changes that row's kind and message instead."""
    if incident.opened and incident.replaces is not None and _move(conn, host_id, incident):
        return True
    if incident.opened:
        result = conn.execute(
            sqlite_insert(incidents)
            .values(
                host_id=host_id,
                kind=incident.kind.value,
                subject=incident.subject,
                container_id=incident.container_id,
                container_name=incident.container_name,
                app=incident.app,
                severity=incident.severity.value,
                opened_at=incident.at,
                message=incident.message,
                log_lines=incident.log_lines,
            )
            .on_conflict_do_nothing()
        )
    else:
        result = conn.execute(
            update(incidents)
            .where(
                incidents.c.host_id == host_id,
                incidents.c.kind == incident.kind.value,
                incidents.c.subject == incident.subject,
                incidents.c.resolved_at.is_(None),
            )
            .values(resolved_at=incident.at, resolution=incident.message)
        )
    if not result.rowcount:
        return False
    conn.execute(
        insert(events).values(
            host_id=host_id,
            at=incident.at,
            kind="incident_opened" if incident.opened else "incident_resolved",
            problem=incident.kind.value,
            message=incident.message,
        )
    )
    return True


def _move(conn: Connection, host_id: int, incident: ContainerIncident) -> bool:
    assert incident.replaces is not None
    already = conn.execute(
        select(incidents.c.id).where(
            incidents.c.host_id == host_id,
            incidents.c.kind == incident.kind.value,
            incidents.c.subject == incident.subject,
            incidents.c.resolved_at.is_(None),
        )
    ).first()
    if already is not None:
        return False
    result = conn.execute(
        update(incidents)
        .where(
            incidents.c.host_id == host_id,
            incidents.c.kind == incident.replaces.value,
            incidents.c.subject == incident.subject,
            incidents.c.resolved_at.is_(None),
        )
        .values(
            kind=incident.kind.value,
            severity=incident.severity.value,
            app=incident.app,
            message=incident.message,
            **({} if incident.log_lines is None else {"log_lines": incident.log_lines}),
        )
    )
    return bool(result.rowcount)


class DockerRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def containers_of(self, host_id: int) -> list[StoredContainer]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(containers)
                .where(containers.c.host_id == host_id)
                .order_by(containers.c.name)
            )
            return [_container_from_row(row) for row in rows]

    def counts(self) -> dict[int, ContainerCounts]:
        """Per host id, its containers as of the last check: running ones and all."""
        query = select(
            containers.c.host_id,
            func.count(),
            func.sum(case((containers.c.state == "running", 1), else_=0)),
        ).group_by(containers.c.host_id)
        with self._engine.connect() as conn:
            return {
                row[0]: ContainerCounts(int(row[2] or 0), int(row[1]))
                for row in conn.execute(query)
            }

    def open_incidents(self, host_id: int | None = None) -> list[tuple[int, ContainerIncident]]:
        """Open container incidents (the other incidents, e.g. high CPU, are left out)."""
        query = select(incidents).where(
            incidents.c.resolved_at.is_(None),
            incidents.c.kind.in_([kind.value for kind in IncidentKind]),
        )
        if host_id is not None:
            query = query.where(incidents.c.host_id == host_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(incidents.c.opened_at))
            return [(row.host_id, _incident_from_row(row)) for row in rows]

    def memory(self, host_id: int) -> DockerMemory:
        stored = self.containers_of(host_id)
        open_ = tuple(i for _, i in self.open_incidents(host_id))
        seen_at = max((s.seen_at for s in stored), default=0)
        return DockerMemory(tuple(s.view.container for s in stored), open_, seen_at)

    def state_counts(self) -> dict[int, dict[ContainerState, int]]:
        """Per host id, how many of its containers are in each state as of the last check
        (states without containers left out)."""
        query = select(containers.c.host_id, containers.c.state, func.count()).group_by(
            containers.c.host_id, containers.c.state
        )
        counts: dict[int, dict[ContainerState, int]] = {}
        with self._engine.connect() as conn:
            for host_id, state, count in conn.execute(query):
                counts.setdefault(host_id, {})[ContainerState(state)] = int(count)
        return counts

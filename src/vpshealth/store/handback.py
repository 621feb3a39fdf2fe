"""The node's side of a desktop's hand-back (``POST /api/v1/sync/handback``): the incidents the
desktop saw and told of while it took over, matched with the node's by identity (host, rule,
subject, opened time; see ``domain.takeover.same_incident``). A matching incident the node has
not told of yet is marked as told, so its alerting does not e-mail it again; one whose recovery
the desktop told of is resolved; one the node did not see is recorded as the desktop saw it.
The alert manager picks the changes up on its next refresh. Blocking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update

from vpshealth.domain.incident_lifecycle import IncidentKey
from vpshealth.domain.takeover import HandedBack, same_incident
from vpshealth.store.schema import events, hosts, incidents

MATCH_SLACK_SECONDS = 120
"""Clock difference allowed between the desktop's and the node's times of one spell."""
RESOLUTION = "resolved while the node was silent (a desktop checked it and said so)"


@dataclass(frozen=True, slots=True)
class HandbackResult:
    marked: int = 0
    """Incidents of the node marked as told of already."""
    resolved: int = 0
    """Incidents of the node resolved as the desktop saw it."""
    recorded: int = 0
    """Incidents the node did not see, recorded as the desktop did."""


def apply_handback(engine: Engine, handed: Sequence[HandedBack]) -> HandbackResult:
    marked = resolved = recorded = 0
    with engine.begin() as conn:
        known = set(conn.execute(select(hosts.c.id)).scalars())
        for item in handed:
            if item.host_id not in known:
                continue
            rows = conn.execute(
                select(incidents).where(
                    incidents.c.host_id == item.host_id,
                    incidents.c.kind == item.rule,
                    incidents.c.subject == item.subject,
                )
            ).all()
            matches = [
                row
                for row in rows
                if same_incident(row.opened_at, row.resolved_at, item, slack=MATCH_SLACK_SECONDS)
            ]
            if not matches:
                if item.notified_at is not None:
                    _record(conn, item)
                    recorded += 1
                continue
            for row in matches:
                if row.resolved_at is not None:
                    continue
                values: dict[str, object] = {}
                if row.last_notified_at is None and item.notified_at is not None:
                    values["last_notified_at"] = item.notified_at
                    marked += 1
                if item.resolved_at is not None and item.resolve_notified:
                    values |= {
                        "resolved_at": max(item.resolved_at, row.opened_at),
                        "resolution": RESOLUTION,
                    }
                    _resolved_event(conn, item, max(item.resolved_at, row.opened_at))
                    resolved += 1
                if values:
                    conn.execute(update(incidents).where(incidents.c.id == row.id).values(values))
    return HandbackResult(marked, resolved, recorded)


def _record(conn: Connection, item: HandedBack) -> None:
    conn.execute(
        insert(incidents).values(
            host_id=item.host_id,
            kind=item.rule,
            subject=item.subject,
            container_id="",
            container_name="",
            severity=item.severity.value,
            opened_at=item.opened_at,
            resolved_at=item.resolved_at,
            message=item.message,
            resolution=RESOLUTION if item.resolved_at is not None else None,
            last_notified_at=item.notified_at,
        )
    )
    conn.execute(
        insert(events).values(
            host_id=item.host_id,
            at=item.opened_at,
            kind="incident_opened",
            problem=item.rule,
            message=f"{item.message} (seen by a desktop while the node was silent)",
        )
    )
    if item.resolved_at is not None:
        _resolved_event(conn, item, item.resolved_at)


def _resolved_event(conn: Connection, item: HandedBack, at: int) -> None:
    conn.execute(
        insert(events).values(
            host_id=item.host_id,
            at=at,
            kind="incident_resolved",
            problem=item.rule,
            message=RESOLUTION,
        )
    )


@dataclass(frozen=True, slots=True)
class StoredView:
    """What the alert manager compares its open incidents with (see ``AlertManager``)."""

    told: dict[IncidentKey, int]
    """Open incidents someone was told of, and when."""
    handed_back_resolved: set[tuple[int, str, str, int]]
    """Incidents resolved by a hand-back in the last hour: their key and opened time."""


def stored_view(engine: Engine, now: int) -> StoredView:
    with engine.connect() as conn:
        told = conn.execute(
            select(
                incidents.c.host_id, incidents.c.kind, incidents.c.subject,
                incidents.c.last_notified_at,
            ).where(incidents.c.resolved_at.is_(None), incidents.c.last_notified_at.is_not(None))
        ).all()  # fmt: skip
        resolved = conn.execute(
            select(
                incidents.c.host_id, incidents.c.kind, incidents.c.subject, incidents.c.opened_at
            ).where(incidents.c.resolution == RESOLUTION, incidents.c.resolved_at >= now - 3600)
        ).all()
    return StoredView(
        {(r.host_id, r.kind, r.subject): r.last_notified_at for r in told},
        {(r.host_id, r.kind, r.subject, r.opened_at) for r in resolved},
    )

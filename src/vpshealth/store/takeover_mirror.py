"""The desktop's takeover database (``takeover.sqlite3``, same schema): filled from the node's
copy when the desktop takes over (hosts, rules and silences by the node's ids, the incidents
open on the node seeded as already notified) and from this computer's own database (its
e-mail settings and alert channels), and read back for the hand-back. Never the copy itself
(its ids are the node's) nor this computer's own fleet. Blocking."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from vpshealth.domain.containers import Severity
from vpshealth.domain.takeover import HandedBack
from vpshealth.store.schema import channels, hosts, incidents, rules, settings, silences
from vpshealth.store.settings_keys import DESKTOP_MIN_SEVERITY_KEY

OWN_SETTINGS = ("email.",)
"""This computer's settings the takeover's alerting uses (its own e-mail set-up)."""


def mirror_into(takeover: Engine, copy: Engine, home: Engine, checked: Collection[int]) -> int:
    """Replace the takeover database's hosts, rules, silences, incidents and channels: the
    copy's (only the ``checked`` hosts enabled) and this computer's own alerting settings.
    Returns how many open incidents were seeded."""
    with copy.connect() as source:
        host_rows = _rows(source, hosts)
        rule_rows = _rows(source, rules)
        silence_rows = _rows(source, silences)
        open_rows = _rows(source, incidents, incidents.c.resolved_at.is_(None))
    with home.connect() as own:
        channel_rows = _rows(own, channels)
        own_settings = [
            row
            for row in _rows(own, settings)
            if row["key"].startswith(OWN_SETTINGS) or row["key"] == DESKTOP_MIN_SEVERITY_KEY
        ]
    for row in host_rows:
        row["enabled"] = row["id"] in checked
    for row in open_rows:
        row.pop("id")
        row["last_notified_at"] = row["last_notified_at"] or row["opened_at"]
    with takeover.begin() as conn:
        for table in (incidents, silences, rules, channels, hosts, settings):
            conn.execute(delete(table))
        for table, rows in (
            (hosts, host_rows),
            (rules, rule_rows),
            (silences, silence_rows),
            (incidents, open_rows),
            (channels, channel_rows),
            (settings, own_settings),
        ):
            if rows:
                conn.execute(insert(table), rows)
    return len(open_rows)


def _rows(conn: Connection, table: Any, *where: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(select(table).where(*where))]


def handed_back(takeover: Engine, since: int) -> list[HandedBack]:
    """The incidents the desktop opened or resolved since it took over (``since``), for the
    node: what it told of them, by identity."""
    with takeover.connect() as conn:
        rows = conn.execute(
            select(incidents).where(
                (incidents.c.opened_at >= since) | incidents.c.resolved_at.is_not(None)
            )
        ).all()
    return [
        HandedBack(
            host_id=row.host_id,
            rule=row.kind,
            subject=row.subject,
            opened_at=row.opened_at,
            severity=Severity(row.severity),
            message=row.message,
            resolved_at=row.resolved_at,
            notified_at=row.last_notified_at,
            resolve_notified=row.resolved_at is not None and row.last_notified_at is not None,
        )
        for row in rows
    ]

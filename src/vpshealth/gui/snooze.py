"""Snoozing notifications: rows in the ``silences`` table. Blocking: run in a worker thread."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert, or_, update

from vpshealth.store.schema import silences

SNOOZE_KIND = "snooze"


def snooze(engine: Engine, now: int, until: int, host_id: int | None = None) -> None:
    """Silence notifications from ``now`` to ``until``: for every host (``host_id`` None) or
    one host."""
    with engine.begin() as conn:
        conn.execute(
            insert(silences).values(
                host_id=host_id,
                kind=SNOOZE_KIND,
                starts_at=now,
                ends_at=until,
                reason="Snoozed from the desktop app",
                created_at=now,
            )
        )


def end_snooze(engine: Engine, now: int) -> None:
    """End every global snooze that is running now (keeps the rows, as history)."""
    with engine.begin() as conn:
        conn.execute(
            update(silences)
            .where(
                silences.c.host_id.is_(None),
                silences.c.kind == SNOOZE_KIND,
                silences.c.ends_at > now,
                or_(silences.c.starts_at.is_(None), silences.c.starts_at <= now),
            )
            .values(ends_at=now)
        )


def tomorrow_morning(now: float, hour: int = 8) -> int:
    """The next ``hour`` o'clock local time after ``now`` (tomorrow's, when it has passed)."""
    local = dt.datetime.fromtimestamp(now).astimezone()
    target = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= local:
        target += dt.timedelta(days=1)
    return int(target.timestamp())

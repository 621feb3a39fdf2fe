"""Reading the log of host state changes and container incidents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Row, select

from vpshealth.store.schema import events


class EventLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def since(self, since: int, host_id: int | None = None) -> list[Row[Any]]:
        query = select(events).where(events.c.at >= since)
        if host_id is not None:
            query = query.where(events.c.host_id == host_id)
        with self._engine.connect() as conn:
            return list(conn.execute(query.order_by(events.c.at, events.c.id)))

    def after(self, after_id: int, limit: int, host_id: int | None = None) -> list[Row[Any]]:
        """Up to ``limit`` events recorded after the one with id ``after_id``, in the order
        they were recorded (ids only grow: one writer appends them)."""
        query = select(events).where(events.c.id > after_id)
        if host_id is not None:
            query = query.where(events.c.host_id == host_id)
        with self._engine.connect() as conn:
            return list(conn.execute(query.order_by(events.c.id).limit(limit)))

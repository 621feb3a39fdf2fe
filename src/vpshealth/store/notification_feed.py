"""Following the notifications the alerting stored, from another process (the desktop app
while the background service runs the checks)."""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select

from vpshealth.domain.notifications import Notification
from vpshealth.store.schema import notifications


class NotificationFeed:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def last_id(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.max(notifications.c.id))).scalar() or 0)

    def after(self, after_id: int, limit: int = 50) -> tuple[int, list[Notification]]:
        """Notifications stored since ``after_id``, and the id to continue from. Unreadable
        ones are skipped."""
        with self._engine.connect() as conn:
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

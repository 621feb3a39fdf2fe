"""Application settings kept in the database as JSON values (never secrets)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.domain.containers import Severity
from vpshealth.store.schema import settings
from vpshealth.store.settings_keys import DESKTOP_MIN_SEVERITY_KEY


class SettingsRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, key: str, default: Any = None) -> Any:
        with self._engine.connect() as conn:
            value = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()
        return json.loads(value) if value is not None else default

    def desktop_min_severity(self) -> Severity:
        """The least severity the desktop shows; ``warning`` when unset or not a severity."""
        try:
            return Severity(self.get(DESKTOP_MIN_SEVERITY_KEY, Severity.WARNING.value))
        except (TypeError, ValueError):
            return Severity.WARNING

    def with_prefix(self, prefix: str) -> dict[str, Any]:
        """Every setting whose key starts with ``prefix``, keyed without it."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(settings.c.key, settings.c.value).where(settings.c.key.startswith(prefix))
            )
            return {row.key[len(prefix) :]: json.loads(row.value) for row in rows}

    def update(self, values: Mapping[str, Any], now: int) -> None:
        """Set several keys in one transaction; a value of None removes the key."""
        with self._engine.begin() as conn:
            put_settings(conn, values, now)


def put_settings(conn: Connection, values: Mapping[str, Any], now: int) -> None:
    """Set several keys within the caller's transaction; a value of None removes the key."""
    for key, value in values.items():
        if value is None:
            conn.execute(delete(settings).where(settings.c.key == key))
            continue
        encoded = json.dumps(value)
        conn.execute(
            sqlite_insert(settings)
            .values(key=key, value=encoded, updated_at=now)
            .on_conflict_do_update(
                index_elements=["key"], set_={"value": encoded, "updated_at": now}
            )
        )

"""Snoozes and maintenance windows: the one place that reads and writes the ``silences`` table,
for every face and the alerting. Blocking: run in a worker thread."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, delete, func, insert, or_, select, update

from vpshealth.domain.silences import Silence, SilenceKind
from vpshealth.store.schema import silences


def _silence(row: Row[Any]) -> Silence:
    return Silence(
        id=row.id,
        host_id=row.host_id,
        kind=SilenceKind(row.kind),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        weekly_start_minute=row.weekly_start_minute,
        weekly_minutes=row.weekly_minutes,
        reason=row.reason,
    )


def _scope(host_id: int | None) -> ColumnElement[bool]:
    return silences.c.host_id.is_(None) if host_id is None else silences.c.host_id == host_id


class SilenceRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_one_off(
        self,
        host_id: int | None,
        kind: SilenceKind,
        starts_at: int,
        ends_at: int,
        *,
        now: int,
        reason: str = "",
    ) -> int:
        return self._insert(
            host_id=host_id,
            kind=kind.value,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            created_at=now,
        )

    def add_weekly(
        self,
        host_id: int | None,
        kind: SilenceKind,
        start_minute: int,
        minutes: int,
        *,
        now: int,
        reason: str = "",
    ) -> int:
        return self._insert(
            host_id=host_id,
            kind=kind.value,
            weekly_start_minute=start_minute,
            weekly_minutes=minutes,
            reason=reason,
            created_at=now,
        )

    def snooze(self, host_id: int | None, until: int, now: int, reason: str = "") -> int:
        """Silence one host (None: every host) from now until ``until``."""
        return self.add_one_off(host_id, SilenceKind.SNOOZE, now, until, now=now, reason=reason)

    def end_snoozes(self, host_id: int | None, now: int) -> int:
        """End one host's (None: the every-host) snoozes that have not ended yet; how many.

        Ending keeps the row and sets its end to ``now``: the snooze stays in the history, and
        what is still wrong is notified from now on. The CLI's ``snooze ... off`` and the
        desktop's "Resume notifications" both end a snooze this way."""
        with self._engine.begin() as conn:
            return conn.execute(
                update(silences)
                .where(_scope(host_id), silences.c.kind == SilenceKind.SNOOZE.value)
                .where(silences.c.ends_at > now)
                .values(ends_at=now)
            ).rowcount

    def snoozed_until(self, now: int) -> int | None:
        """When the every-host snooze running now ends; None when none runs."""
        query = select(func.max(silences.c.ends_at)).where(
            _scope(None),
            silences.c.kind == SilenceKind.SNOOZE.value,
            or_(silences.c.starts_at.is_(None), silences.c.starts_at <= now),
            silences.c.ends_at > now,
        )
        with self._engine.connect() as conn:
            until = conn.execute(query).scalar()
        return None if until is None else int(until)

    def _insert(self, **values: Any) -> int:
        with self._engine.begin() as conn:
            result = conn.execute(insert(silences).values(**values))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def current(self, now: int) -> list[Silence]:
        """Every silence that is active now or later (expired one-off ones left out)."""
        query = (
            select(silences)
            .where(or_(silences.c.ends_at.is_(None), silences.c.ends_at > now))
            .order_by(silences.c.id)
        )
        with self._engine.connect() as conn:
            return [_silence(row) for row in conn.execute(query)]

    def remove(self, silence_id: int) -> bool:
        with self._engine.begin() as conn:
            return bool(conn.execute(delete(silences).where(silences.c.id == silence_id)).rowcount)

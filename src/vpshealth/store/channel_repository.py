"""The stored alert channels (``channels``): rows only; the URLs are in the secret store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from vpshealth.domain.channels import ChannelRecord
from vpshealth.domain.containers import Severity
from vpshealth.store.outbox_repository import OutboxStatus
from vpshealth.store.schema import channels, outbox


class ChannelExistsError(Exception):
    """A channel of that name is stored already."""


@dataclass(frozen=True, slots=True)
class NewChannel:
    name: str
    service: str
    masked_url: str
    secret_ref: str
    min_severity: Severity
    enabled: bool
    batch_seconds: int
    max_per_host_per_hour: int
    created_at: int


def _record(row: Row[Any]) -> ChannelRecord:
    return ChannelRecord(
        id=row.id,
        name=row.name,
        service=row.service,
        masked_url=row.masked_url,
        secret_ref=row.secret_ref,
        min_severity=Severity(row.min_severity),
        enabled=bool(row.enabled),
        batch_seconds=row.batch_seconds,
        max_per_host_per_hour=row.max_per_host_per_hour,
        created_at=row.created_at,
    )


class ChannelRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def list(self) -> list[ChannelRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(channels).order_by(channels.c.name))
            return [_record(row) for row in rows]

    def get(self, name: str) -> ChannelRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(channels).where(channels.c.name == name)).first()
        return None if row is None else _record(row)

    def by_id(self, channel_id: int) -> ChannelRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(channels).where(channels.c.id == channel_id)).first()
        return None if row is None else _record(row)

    def add(self, new: NewChannel) -> ChannelRecord:
        """Raises :class:`ChannelExistsError` when the name is taken."""
        try:
            with self._engine.begin() as conn:
                result = conn.execute(
                    insert(channels).values(
                        name=new.name,
                        service=new.service,
                        masked_url=new.masked_url,
                        secret_ref=new.secret_ref,
                        min_severity=new.min_severity.value,
                        enabled=new.enabled,
                        batch_seconds=new.batch_seconds,
                        max_per_host_per_hour=new.max_per_host_per_hour,
                        created_at=new.created_at,
                    )
                )
                key = result.inserted_primary_key
        except IntegrityError:
            raise ChannelExistsError(new.name) from None
        assert key is not None
        found = self.by_id(int(key[0]))
        assert found is not None
        return found

    def update(self, name: str, values: dict[str, Any]) -> ChannelRecord | None:
        """``values``: columns to set (``min_severity`` as a Severity). None: no such channel."""
        stored = {k: v.value if isinstance(v, Severity) else v for k, v in values.items()}
        with self._engine.begin() as conn:
            if stored:
                conn.execute(update(channels).where(channels.c.name == name).values(**stored))
        return self.get(name)

    def remove(self, record: ChannelRecord, *, reason: str) -> int:
        """Delete the row; its messages not sent yet are failed with ``reason`` (no worker
        is left to send them). Returns how many were failed."""
        with self._engine.begin() as conn:
            conn.execute(delete(channels).where(channels.c.id == record.id))
            result = conn.execute(
                update(outbox)
                .where(
                    outbox.c.channel == record.delivery_key,
                    outbox.c.status == OutboxStatus.PENDING.value,
                )
                .values(status=OutboxStatus.FAILED.value, last_error=reason)
            )
        return int(result.rowcount)

"""The typed answer of ``GET /api/v1/sync/state`` (for the OpenAPI document and its tests)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Scalar = str | int | float | bool | None


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SyncNode(_Answer):
    id: str = Field(description="made once by the node; another id means another database")
    version: str
    schema_: str = Field(alias="schema", description="the node's database schema revision")


class SyncTable(_Answer):
    columns: list[str] = Field(description="column names as in the node's database")
    rows: list[list[Scalar]]


class SyncState(_Answer):
    node: SyncNode
    now: int = Field(description="the node's clock, Unix seconds")
    since: int | None
    live_seq: int = Field(description="the live stream's last number when this was read")
    events_after: int
    next_events_after: int
    notifications_after: int
    next_notifications_after: int
    more: bool = Field(
        description="more events or notifications are waiting: ask with next_events_after "
        "and next_notifications_after"
    )
    tables: dict[str, SyncTable]

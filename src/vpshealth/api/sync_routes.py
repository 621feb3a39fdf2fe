"""What a desktop that keeps a copy of this node reads to catch up: ``/api/v1/sync/state``
(small tables whole, incidents and events that changed) and ``/api/v1/sync/history``
(samples and rollups as compressed blocks). See docs/sync.md."""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from vpshealth import __version__
from vpshealth.api.auth import Context, Reader
from vpshealth.api.errors import ERROR_RESPONSES, Problem
from vpshealth.api.json_bytes import json_bytes
from vpshealth.api.sync_models import SyncState
from vpshealth.store.database import SCHEMA_HEAD

router = APIRouter(prefix="/api/v1/sync", tags=["sync"], responses=ERROR_RESPONSES)

GZIP_LEVEL = 6
NOT_SERVED: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "this node does not serve sync"}
}
HISTORY_BODY: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "history blocks in the framed format of docs/sync.md",
    }
}

Since = Annotated[
    int | None,
    Query(ge=0, le=1 << 40, description="Unix seconds; changes at or after it (none: all)"),
]


def _not_served() -> Response:
    body = json_bytes({"detail": "Sync is served by `vpshealth service --api` only."})
    return Response(body, 503, media_type="application/json")


def _packed(request: Request, body: bytes, media_type: str) -> Response:
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        return Response(
            gzip.compress(body, GZIP_LEVEL, mtime=0),
            media_type=media_type,
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(body, media_type=media_type, headers={"Vary": "Accept-Encoding"})


@router.get("/state", response_model=SyncState, responses=NOT_SERVED)
def sync_state(  # noqa: PLR0917 (FastAPI passes the query parameters by name)
    request: Request,
    context: Context,
    _token: Reader,
    since: Since = None,
    events_after: Annotated[
        int, Query(ge=0, le=1 << 62, description="the `next_events_after` of the last page")
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=5000, description="events (and notifications) per page")
    ] = 2000,
    notifications_after: Annotated[
        int,
        Query(ge=0, le=1 << 62, description="the `next_notifications_after` of the last page"),
    ] = 0,
) -> Response:
    """The node's identity, its clock, the last number of its live stream and, read in the
    same transaction: hosts, their status, containers, series, rules, silences and settings
    (whole tables), incidents open or changed since `since`, events after `events_after`
    and the desktop notifications the node made
    after `notifications_after`. Ask again with `events_after=next_events_after` and
    `notifications_after=next_notifications_after` while `more` is true."""
    source = context.sync
    if source is None:
        return _not_served()
    snapshot = source.state(
        int(context.clock.now()), since, events_after, limit, notifications_after
    )
    body = {
        "node": {"id": snapshot.node_id, "version": __version__, "schema": SCHEMA_HEAD},
        "now": snapshot.now,
        "since": snapshot.since,
        "live_seq": snapshot.live_seq,
        "events_after": snapshot.events_after,
        "next_events_after": snapshot.next_events_after,
        "notifications_after": snapshot.notifications_after,
        "next_notifications_after": snapshot.next_notifications_after,
        "more": snapshot.more,
        "tables": {
            name: {"columns": rows.columns, "rows": rows.rows}
            for name, rows in snapshot.tables.items()
        },
    }
    return _packed(request, json_bytes(body), "application/json")


@router.get(
    "/history",
    response_class=Response,
    responses={**HISTORY_BODY, **NOT_SERVED},
)
def sync_history(
    context: Context,
    _token: Reader,
    since: Annotated[
        int, Query(ge=0, le=1 << 40, description="Unix seconds; samples after it")
    ] = 0,
    after_series: Annotated[
        int, Query(ge=0, le=1 << 62, description="the `next_after_series` of the last page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=2000, description="series per page")] = 250,
) -> Response:
    """The samples of every series with a time after `since`, as compressed blocks: the
    node's hourly chunks as stored, newer raw samples encoded the same way, and the 1-minute
    and 1-hour rollups. Paged by series id: ask again with `after_series` set to the
    header's `next_after_series` until it is null."""
    source = context.sync
    if source is None:
        return _not_served()
    body = source.history(int(context.clock.now()), since, after_series, limit)
    return Response(body, media_type="application/octet-stream")

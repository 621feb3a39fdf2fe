"""The event log (host state changes, incidents opened and resolved), oldest first after a
cursor: what a syncing desktop asks for after it was away."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vpshealth.api import models
from vpshealth.api.auth import Context, Reader
from vpshealth.api.errors import ERROR_RESPONSES, NOT_FOUND
from vpshealth.api.lookup import host_id_of
from vpshealth.read_model import json_shapes

router = APIRouter(prefix="/api/v1", tags=["events"], responses=ERROR_RESPONSES)


@router.get("/events", response_model=models.EventPage, responses=NOT_FOUND)
def list_events(
    context: Context,
    _token: Reader,
    after: Annotated[
        int, Query(ge=0, description="the `next` of the previous answer; 0: from the start")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    host: Annotated[str | None, Query(description="only this host's", max_length=200)] = None,
) -> models.EventPage:
    """Events recorded after the cursor, in the order they were recorded. Keep `next` and
    ask again with `after=next`: nothing is skipped and nothing comes twice. `more` says
    that more are waiting already."""
    host_id = host_id_of(context, host)
    found = context.read_model.events_after(after, limit + 1, host_id)
    page = found[:limit]
    return models.EventPage.model_validate(
        {
            "events": [json_shapes.event_json(e) | {"id": e.id} for e in page],
            "next": page[-1].id if page else after,
            "more": len(found) > limit,
        }
    )

"""Incidents, newest first, paged by cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vpshealth.api import models
from vpshealth.api.auth import Context, Reader
from vpshealth.api.errors import ERROR_RESPONSES, NOT_FOUND
from vpshealth.api.lookup import host_id_of
from vpshealth.read_model import json_shapes

router = APIRouter(prefix="/api/v1", tags=["incidents"], responses=ERROR_RESPONSES)


@router.get("/incidents", response_model=models.IncidentPage, responses=NOT_FOUND)
def list_incidents(
    context: Context,
    _token: Reader,
    open: Annotated[bool, Query(description="only those still open")] = False,
    host: Annotated[str | None, Query(description="only this host's", max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[
        int | None, Query(ge=1, description="the `next` of the previous page")
    ] = None,
) -> models.IncidentPage:
    """Newest recorded first. Pass the answer's `next` as `before` for the older ones; new
    incidents recorded meanwhile come first on a fresh first page, never inside later pages."""
    host_id = host_id_of(context, host)
    found = context.read_model.incident_page(
        open_only=open, host_id=host_id, before=before, limit=limit + 1
    )
    page = found[:limit]
    return models.IncidentPage.model_validate(
        {
            "incidents": [json_shapes.incident_json(r) for r in page],
            "next": page[-1].id if len(found) > limit else None,
        }
    )

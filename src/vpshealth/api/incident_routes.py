"""Incidents, newest first, paged by cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from vpshealth.api import models
from vpshealth.api.auth import Context, Reader, Writer
from vpshealth.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND, WRITE_RESPONSES
from vpshealth.api.lookup import available, host_id_of
from vpshealth.api.write_models import MAX_ID, AckMany
from vpshealth.operations.errors import ConflictError, NotFoundError
from vpshealth.operations.incidents import AckOutcome
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


@router.post(
    "/incidents/{incident_id}/ack",
    response_model=models.Incident,
    responses={**NOT_FOUND, **WRITE_RESPONSES, **CONFLICT},
)
def acknowledge(
    incident_id: Annotated[int, Path(ge=1, le=MAX_ID)], context: Context, _token: Writer
) -> models.Incident:
    """No more reminders about this open incident until it resolves (as `vpshealth ack`).
    Acknowledging it again answers it unchanged; a resolved incident is a 409."""
    result = available(context.operations, "operations").incidents.acknowledge([incident_id])
    outcome = result.results[0].outcome
    if outcome is AckOutcome.UNKNOWN:
        raise NotFoundError(
            f"There is no incident {incident_id}. GET /api/v1/incidents?open=true lists the "
            "open ones."
        )
    if outcome is AckOutcome.RESOLVED:
        raise ConflictError(
            f"Incident {incident_id} is resolved already: only open incidents can be "
            "acknowledged. Nothing was changed."
        )
    record = context.read_model.incident_repository.get(incident_id)
    assert record is not None
    return models.Incident.model_validate(json_shapes.incident_json(record))


@router.post("/incidents/ack", response_model=models.AckOutcomes, responses=WRITE_RESPONSES)
def acknowledge_many(body: AckMany, context: Context, _token: Writer) -> models.AckOutcomes:
    """Acknowledge several open incidents; each id's outcome is answered, and the ids that
    are unknown or resolved leave the others acknowledged."""
    done = available(context.operations, "operations").incidents.acknowledge(body.ids)
    return models.AckOutcomes.model_validate(
        {"results": [{"id": r.incident_id, "outcome": r.outcome.value} for r in done.results]}
    )

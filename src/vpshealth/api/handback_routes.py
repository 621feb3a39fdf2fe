"""``POST /api/v1/sync/handback``: a desktop that took over the checks while this node was
silent tells it which incidents it saw and told of, by identity (host, rule, subject, opened
time), so that this node does not e-mail them again (docs/sync.md, "Taking over").

A plain function: FastAPI runs it in a worker thread, where the database may block."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from vpshealth.api.auth import Context, Writer
from vpshealth.api.errors import ERROR_RESPONSES, WRITE_RESPONSES
from vpshealth.api.lookup import available
from vpshealth.domain.containers import Severity
from vpshealth.domain.takeover import HandedBack

router = APIRouter(
    prefix="/api/v1/sync", tags=["sync"], responses={**ERROR_RESPONSES, **WRITE_RESPONSES}
)

Time = Annotated[int, Field(ge=0, le=1 << 40, description="Unix seconds")]


class HandedBackIncident(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host_id: int = Field(ge=1, le=1 << 62, description="the node's id of the host")
    rule: str = Field(min_length=1, max_length=200)
    subject: str = Field(max_length=1000)
    opened_at: Time
    severity: Severity
    message: str = Field("", max_length=10_000)
    resolved_at: Time | None = None
    notified_at: Time | None = Field(None, description="when the desktop last told of it")
    resolve_notified: bool = Field(False, description="the desktop told of its recovery")


class Handback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incidents: list[HandedBackIncident] = Field(max_length=10_000)


class HandbackAnswer(BaseModel):
    marked: int = Field(description="incidents of this node marked as told of already")
    resolved: int = Field(description="incidents of this node resolved as the desktop saw it")
    recorded: int = Field(description="incidents this node did not see, recorded")


@router.post("/handback", response_model=HandbackAnswer)
def hand_back(body: Handback, context: Context, _token: Writer) -> HandbackAnswer:
    apply = available(context.handback, "hand-back")
    result = apply([HandedBack.from_json(item.model_dump(mode="json")) for item in body.incidents])
    return HandbackAnswer(marked=result.marked, resolved=result.resolved, recorded=result.recorded)

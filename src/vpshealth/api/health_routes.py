"""``GET /api/v1/health``: no token; for container healthchecks and uptime monitors."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from vpshealth.api.auth import Context

router = APIRouter()


class Health(BaseModel):
    status: Literal["ok", "starting", "stale", "stopped"] = Field(
        description="ok: the engine runs and its last poll is recent"
    )
    engine_running: bool
    last_poll_age_seconds: float | None = Field(description="null before the first poll")
    hosts: int = Field(description="enabled hosts being checked")


@router.get(
    "/api/v1/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "the checks are not running or stale"}},
    tags=["health"],
)
def health(context: Context, response: Response) -> Health:
    engine = context.engine
    state, age = engine.health(context.clock.now())
    if state not in ("ok", "starting"):
        response.status_code = 503
    return Health(
        status=state,
        engine_running=engine.running,
        last_poll_age_seconds=None if age is None else round(age, 1),
        hosts=engine.hosts,
    )

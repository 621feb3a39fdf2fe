"""Snoozes and maintenance windows, in force now or later."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter

from vpshealth.api import models
from vpshealth.api.auth import Context, Reader
from vpshealth.api.errors import ERROR_RESPONSES
from vpshealth.read_model import json_shapes
from vpshealth.read_model.silence_words import when_text

router = APIRouter(prefix="/api/v1", tags=["silences"], responses=ERROR_RESPONSES)


@router.get("/silences", response_model=models.SilenceList)
def list_silences(context: Context, _token: Reader) -> models.SilenceList:
    """As `vpshealth maintenance --json` (with snoozes): those that have not ended, for one
    host or (`host` null) every host; `active` says which are in force now."""
    now = int(context.clock.now())
    names = {r.id: r.host.name for r in context.read_model.hosts.list()}
    windows = [
        json_shapes.silence_json(
            s,
            names.get(s.host_id) if s.host_id is not None else None,
            now=now,
            when=when_text(s, UTC),
        )
        for s in context.read_model.silences.current(now)
    ]
    return models.SilenceList.model_validate({"windows": windows})

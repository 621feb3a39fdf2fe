"""Snoozes and maintenance windows, in force now or later."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from vpshealth.api import models
from vpshealth.api.auth import Context, Reader, Writer
from vpshealth.api.context import ApiContext
from vpshealth.api.errors import ERROR_RESPONSES, NOT_FOUND, WRITE_RESPONSES, invalid_field
from vpshealth.api.lookup import available
from vpshealth.api.time_query import parse_time
from vpshealth.api.write_models import MAX_ID, NewSnooze, NewWindow
from vpshealth.domain.silences import Silence, SilenceKind
from vpshealth.operations.bundle import Operations
from vpshealth.operations.errors import FieldError, NotFoundError
from vpshealth.operations.silence_input import duration_seconds
from vpshealth.read_model import json_shapes
from vpshealth.read_model.silence_words import when_text

router = APIRouter(prefix="/api/v1", tags=["silences"], responses=ERROR_RESPONSES)


@router.get("/silences", response_model=models.SilenceList)
def list_silences(context: Context, _token: Reader) -> models.SilenceList:
    """As `vpshealth maintenance --json` (with snoozes): those that have not ended, for one
    host or (`host` null) every host; `active` says which are in force now."""
    now = int(context.clock.now())
    names = context.read_model.hosts.names()
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


MAX_SILENCE_SECONDS = 10 * 366 * 86400
HOST_OR_ALL = "name a host, or set all: true for every host (not both)"


def _operations(context: ApiContext) -> Operations:
    return available(context.operations, "operations")


def _host_of(context: ApiContext, host: str | None, every: bool) -> str | None:
    """The host a body names (None: every host), known to exist."""
    if (host is None) != every:
        raise FieldError("host", HOST_OR_ALL)
    if host is not None and context.read_model.hosts.find(host) is None:
        raise FieldError(
            "host", "there is no host of that name; GET /api/v1/hosts lists them", value=host
        )
    return host


def _seconds(duration: str | int) -> int:
    seconds = duration_seconds(duration, "duration")
    if seconds > MAX_SILENCE_SECONDS:
        raise FieldError("duration", "must be at most 10 years", value=duration)
    return seconds


def _answer(context: ApiContext, silence: Silence, host: str | None) -> models.SilenceOut:
    context.fleet_answers.clear()
    now = int(context.clock.now())
    shape = json_shapes.silence_json(silence, host, now=now, when=when_text(silence, UTC))
    return models.SilenceOut.model_validate(shape)


@router.post(
    "/snoozes", status_code=201, response_model=models.SilenceOut, responses=WRITE_RESPONSES
)
def snooze(body: NewSnooze, context: Context, _token: Writer) -> models.SilenceOut:
    """No notifications about a host (or, with `all`, every host) for a `duration` or
    `until` a time, as `vpshealth snooze` does. Incidents are still recorded."""
    host = _host_of(context, body.host, body.all)
    silences = _operations(context).silences
    if (body.duration is None) == (body.until is None):
        raise FieldError("duration", "give either duration (e.g. 2h) or until, not both")
    if body.until is not None:
        until = silences.snooze_until(
            host, parse_time("until", str(body.until), "body"), body.reason
        )
    else:
        assert body.duration is not None
        until = silences.snooze(host, _seconds(body.duration), body.reason)
    found = [
        w.silence
        for w in silences.windows(host)
        if w.silence.kind is SilenceKind.SNOOZE
        and w.host_name == host
        and w.silence.ends_at == until
    ]
    return _answer(context, max(found, key=lambda s: s.id), host)


@router.delete("/snoozes", response_model=models.SnoozesEnded, responses=WRITE_RESPONSES)
def end_snooze(
    context: Context,
    _token: Writer,
    host: Annotated[str | None, Query(max_length=200, description="the host's snoozes")] = None,
    all: Annotated[bool, Query(description="the every-host snoozes")] = False,
) -> models.SnoozesEnded:
    """End the snoozes of a host, or (`all=true`) those of every host, as `vpshealth snooze
    ... off`: what is still wrong is notified from now on."""
    if (host is None) != all:
        raise invalid_field("query", "host", HOST_OR_ALL)
    if host is not None and context.read_model.hosts.find(host) is None:
        raise invalid_field("query", "host", f"there is no host named '{host}'")
    ended = _operations(context).silences.end_snooze(host)
    context.fleet_answers.clear()
    return models.SnoozesEnded(ended=ended)


@router.post(
    "/maintenance-windows",
    status_code=201,
    response_model=models.SilenceOut,
    responses=WRITE_RESPONSES,
)
def add_window(body: NewWindow, context: Context, _token: Writer) -> models.SilenceOut:
    """A one-off window from `start` (default now), or a `weekly` one, lasting `duration`,
    for a host or (`all`) every host, as `vpshealth maintenance NAME --start|--weekly` does."""
    host = _host_of(context, body.host, body.all)
    start: str | int | None = body.start
    if body.weekly is None and start is None:
        start = "now"
    if start is not None and str(start).strip().lower() != "now":
        start = parse_time("start", str(start), "body")
    view = _operations(context).silences.add_window(
        host, duration=_seconds(body.duration), start=start, weekly=body.weekly, reason=body.reason
    )
    return _answer(context, view.silence, view.host_name)


@router.delete(
    "/maintenance-windows/{window_id}",
    status_code=204,
    response_class=Response,
    responses={**WRITE_RESPONSES, **NOT_FOUND},
)
def remove_window(
    window_id: Annotated[int, Path(ge=1, le=MAX_ID)], context: Context, _token: Writer
) -> Response:
    """Remove a maintenance window (or a snooze) by the `id` GET /api/v1/silences answers."""
    try:
        _operations(context).silences.remove_window(window_id)
    except NotFoundError:
        raise NotFoundError(
            f"There is no window {window_id}. GET /api/v1/silences lists them."
        ) from None
    context.fleet_answers.clear()
    return Response(status_code=204)

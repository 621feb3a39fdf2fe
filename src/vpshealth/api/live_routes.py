"""``GET /api/v1/live``: a WebSocket of the messages the service records (check results, state
changes, incidents, notifications), numbered; ``?after=SEQ`` resumes from the log first.

A missing or wrong token is refused at the handshake with HTTP 401, a bad query with HTTP 400
naming the field. A client that falls too far behind is closed with code 1013 and a reason
that says from which number to resume. The server pings every ``PING_SECONDS`` (uvicorn's
WebSocket keepalive) and drops a client that does not answer within as long."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocketDisconnect

from vpshealth.api.auth import UNAUTHORIZED, FailedLogins, authenticate, peer_address
from vpshealth.api.context import ApiContext, api_context
from vpshealth.api.live_stream import Cursor, gap_message, resume
from vpshealth.domain.live import ALL_KINDS, KIND_NAMES, LiveKind, LiveMessage
from vpshealth.engine.live_hub import SubscriberDropped

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_TOO_SLOW = 1013
PING_SECONDS = 20.0
KIND_LIST = ", ".join(k.value for k in LiveKind)


class QueryError(ValueError):
    pass


def parse_after(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        after = int(raw)
    except ValueError:
        raise QueryError(
            f"after: {raw!r} is not a sequence number; give the seq of the last message "
            "you received (a whole number, 0 for everything still kept)."
        ) from None
    if after < 0:
        raise QueryError("after: must be 0 or more (the seq of the last message you received).")
    return after


def parse_kinds(raw: str | None) -> frozenset[LiveKind]:
    if raw is None or not raw.strip():
        return ALL_KINDS
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in KIND_NAMES]
    if unknown:
        raise QueryError(
            f"kinds: unknown kind {', '.join(map(repr, unknown))}; use a comma-separated list "
            f"of {KIND_LIST}."
        )
    return frozenset(LiveKind(name) for name in names)


@router.websocket("/api/v1/live")
async def live(websocket: WebSocket) -> None:
    context = api_context(websocket)
    failed: FailedLogins = websocket.app.state.failed_logins
    if await authenticate(websocket, context, failed) is None:
        await websocket.send_denial_response(
            JSONResponse({"detail": UNAUTHORIZED}, 401, headers={"WWW-Authenticate": "Bearer"})
        )
        return
    try:
        after = parse_after(websocket.query_params.get("after"))
        kinds = parse_kinds(websocket.query_params.get("kinds"))
    except QueryError as exc:
        await websocket.send_denial_response(JSONResponse({"detail": str(exc)}, 400))
        return
    if context.live_hub is None or context.live_log is None:
        await websocket.send_denial_response(
            Response("The live stream is served by `vpshealth service --api` only.", 503)
        )
        return
    await websocket.accept()
    streaming = asyncio.ensure_future(_stream(websocket, context, after, kinds))
    listening = asyncio.ensure_future(_until_disconnect(websocket))
    try:
        await asyncio.wait({streaming, listening}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (streaming, listening):
            task.cancel()
        # wait, not gather: the tasks' own cancellation must not look like this one's
        await asyncio.wait({streaming, listening})
    if not streaming.cancelled() and (failure := streaming.exception()) is not None:
        raise failure  # a failure of our own, for the server to log


async def _until_disconnect(websocket: WebSocket) -> None:
    """What a client sends is ignored; this notices that it went away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _stream(
    websocket: WebSocket, context: ApiContext, after: int | None, kinds: frozenset[LiveKind]
) -> None:
    hub, live_log = context.live_hub, context.live_log
    assert hub is not None
    assert live_log is not None
    subscription = hub.subscribe(kinds)
    cursor = Cursor(hub.last_seq if after is None else after)

    sent = 0

    async def send(message: LiveMessage) -> None:
        nonlocal sent
        await websocket.send_text(json.dumps(message.to_json(), separators=(",", ":")))
        sent += 1

    async def read_page(seq: int) -> list[LiveMessage]:
        return await run_in_threadpool(live_log.after, seq, kinds)

    try:
        if after is not None:
            complete_from, last_seq = await run_in_threadpool(
                lambda: (live_log.complete_from(), live_log.last_seq())
            )
            gap = gap_message(after, kinds, complete_from, last_seq, context.clock.now())
            if gap is not None:
                await websocket.send_text(json.dumps(gap, separators=(",", ":")))
                cursor.last = min(after, last_seq)
        await resume(cursor, subscription, read_page, send)
    except SubscriberDropped as dropped:
        log.warning("API: live stream to %s dropped: %s", peer_address(websocket), dropped.reason)
        await websocket.close(
            CLOSE_TOO_SLOW, f"Too far behind; reconnect with ?after={cursor.last}"[:123]
        )
    except WebSocketDisconnect:
        pass
    finally:
        subscription.close()
        log.info("API: live stream to %s ended after %d messages (last seq %d)",
                 peer_address(websocket), sent, cursor.last)  # fmt: skip

"""Bearer tokens: 401 without detail for a missing or wrong token, 403 for a read-only token
that tries to change something. Failed attempts are logged with the peer's address and each
one from the same address waits longer, up to a few seconds."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, status
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from vpshealth.api.context import ApiContext, api_context
from vpshealth.store.api_token_repository import StoredToken

log = logging.getLogger(__name__)

UNAUTHORIZED = "A valid bearer token is required."
READ_ONLY = "This token is read-only; create one without --read-only to make changes."
FIRST_DELAY = 0.25
MAX_DELAY = 4.0
FORGET_AFTER = 600.0


@dataclass
class FailedLogins:
    """Per peer address: how many attempts failed lately, to slow the next ones down."""

    counts: dict[str, tuple[int, float]] = field(default_factory=dict)

    def delay(self, peer: str, now: float) -> float:
        count, last = self.counts.get(peer, (0, now))
        if now - last > FORGET_AFTER:
            count = 0
        self.counts[peer] = (count + 1, now)
        if len(self.counts) > 10_000:
            self.counts = {p: v for p, v in self.counts.items() if now - v[1] <= FORGET_AFTER}
        return min(MAX_DELAY, FIRST_DELAY * 2.0**count)

    def clear(self, peer: str) -> None:
        self.counts.pop(peer, None)


def _bearer(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def peer_address(connection: HTTPConnection) -> str:
    client = connection.client
    return f"{client.host}:{client.port}" if client else "unknown peer"


async def authenticate(
    connection: HTTPConnection, context: ApiContext, failed: FailedLogins
) -> StoredToken | None:
    token = _bearer(connection)
    stored = await run_in_threadpool(context.tokens.verify, token) if token else None
    peer = connection.client.host if connection.client else "unknown"
    if stored is None:
        log.warning(
            "API: %s token from %s for %s",
            "wrong" if token else "no",
            peer_address(connection),
            connection.url.path,
        )
        await asyncio.sleep(failed.delay(peer, time.monotonic()))
        return None
    failed.clear(peer)
    return stored


def _failed_logins(connection: HTTPConnection) -> FailedLogins:
    failed: FailedLogins = connection.app.state.failed_logins
    return failed


async def require_reader(
    connection: HTTPConnection,
    context: Annotated[ApiContext, Depends(api_context)],
    failed: Annotated[FailedLogins, Depends(_failed_logins)],
) -> StoredToken:
    stored = await authenticate(connection, context, failed)
    if stored is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"}
        )
    return stored


async def require_writer(
    token: Annotated[StoredToken, Depends(require_reader)],
    context: Annotated[ApiContext, Depends(api_context)],
) -> AsyncIterator[StoredToken]:
    """After the route succeeded, the live stream says something changed."""
    if token.read_only:
        raise HTTPException(status.HTTP_403_FORBIDDEN, READ_ONLY)
    yield token
    if context.changed is not None:
        await run_in_threadpool(context.changed)


Reader = Annotated[StoredToken, Depends(require_reader)]
Writer = Annotated[StoredToken, Depends(require_writer)]
Context = Annotated[ApiContext, Depends(api_context)]

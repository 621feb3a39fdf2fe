"""Catching the copy up with its node from the stored cursor: state pages, then history pages,
each applied with the cursor in one transaction, so a catch-up cut off anywhere goes on from
there the next time."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from vpshealth.clock import Clock
from vpshealth.errors import EXIT_NOT_OK, VpsHealthError
from vpshealth.store import sync_blocks
from vpshealth.sync.node_session import NodeProblem
from vpshealth.sync.replica import Cursor, Replica, StatePage, SyncPageError

log = logging.getLogger(__name__)

MARGIN_SECONDS = 300
"""Each catch-up asks again for this much before the last one ended: rows committed late on
the node (a poll that ends after its start) are not missed, and asking twice is harmless."""
EVENTS_PER_PAGE = 2000
SERIES_PER_PAGE = 250
STATE_PATH = "/api/v1/sync/state"
HISTORY_PATH = "/api/v1/sync/history"


class NodeSyncError(VpsHealthError):
    """The node could not be caught up with; the message says why and what to do."""

    exit_code = EXIT_NOT_OK


class NodeTokenRefused(NodeSyncError):
    pass


class NodeUnreachable(NodeSyncError):
    def __init__(self, message: str, problem: NodeProblem = NodeProblem.UNREACHABLE) -> None:
        self.problem = problem
        super().__init__(message)


class NodeFailed(NodeSyncError):
    pass


@dataclass(frozen=True, slots=True)
class CatchUpReport:
    node_id: str
    state_pages: int
    history_pages: int
    bytes_received: int
    """Bytes on the wire (compressed bodies as sent)."""
    seconds: float
    live_seq: int
    """Follow the live stream after this number."""
    started_over: bool = False
    """The copy belonged to another node id and was cleared first."""


async def catch_up(
    client: httpx.AsyncClient,
    copy: Engine,
    clock: Clock,
    *,
    margin: int = MARGIN_SECONDS,
    series_per_page: int = SERIES_PER_PAGE,
) -> CatchUpReport:
    """Bring the copy up to date with the node ``client`` talks to (its base_url is the node's
    API, its headers carry the token). Raises ``NodeSyncError`` subclasses."""
    replica = Replica(copy)
    started = time.perf_counter()
    received = state_pages = history_pages = 0
    started_over = False
    cursor = await asyncio.to_thread(replica.cursor)
    while True:
        params: dict[str, int] = {
            "events_after": cursor.events_after,
            "notifications_after": cursor.notifications_after,
            "limit": EVENTS_PER_PAGE,
        }
        if cursor.since is not None:
            params["since"] = cursor.since
        response = await _get(client, STATE_PATH, params)
        received += response.num_bytes_downloaded
        state_pages += 1
        try:
            page = StatePage.from_json(_json(client, response))
        except SyncPageError as exc:
            raise NodeFailed(f"{_node(client)}: {exc}") from None
        if page.node_id != cursor.node_id:
            started_over = started_over or cursor.node_id is not None
            await asyncio.to_thread(replica.start_over, page.node_id, clock.now())
            asked_for_all = cursor.since is None and not (
                cursor.events_after or cursor.notifications_after
            )
            cursor = Cursor(node_id=page.node_id)
            if not asked_for_all:
                continue  # the page answered the old cursor: ask again from the start
        await asyncio.to_thread(replica.apply_state, page, clock.now(), margin)
        cursor = await asyncio.to_thread(replica.cursor)
        if not page.more:
            break
    state_now = page.now
    since = 0 if cursor.history_since is None else max(0, cursor.history_since - margin)
    after = cursor.history_after_series or 0
    while True:
        params = {"since": since, "after_series": after, "limit": series_per_page}
        response = await _get(client, HISTORY_PATH, params)
        received += response.num_bytes_downloaded
        history_pages += 1
        try:
            history = sync_blocks.decode(response.content)
        except sync_blocks.SyncFormatError as exc:
            raise NodeFailed(f"{_node(client)} sent history that cannot be read: {exc}") from None
        try:
            await asyncio.to_thread(replica.apply_history, history, clock.now(), state_now)
        except SyncPageError as exc:
            raise NodeFailed(f"{_node(client)}: {exc}; the next catch-up starts again") from None
        if history.next_after_series is None:
            break
        after = history.next_after_series
    report = CatchUpReport(
        node_id=page.node_id,
        state_pages=state_pages,
        history_pages=history_pages,
        bytes_received=received,
        seconds=time.perf_counter() - started,
        live_seq=page.live_seq,
        started_over=started_over,
    )
    log.info(
        "Sync: caught up with %s in %.1f s (%d + %d pages, %d bytes)",
        _node(client), report.seconds, state_pages, history_pages, received,
    )  # fmt: skip
    return report


def _node(client: httpx.AsyncClient) -> str:
    return f"the node at {client.base_url}"


async def _get(client: httpx.AsyncClient, path: str, params: dict[str, int]) -> httpx.Response:
    node = _node(client)
    try:
        response = await client.get(path, params=params)
    except httpx.TimeoutException:
        raise NodeUnreachable(
            f"{node} did not answer in time; check that it runs and that the network to it "
            "works, then sync again",
            NodeProblem.API_NOT_ANSWERING,
        ) from None
    except httpx.TransportError as exc:
        raise NodeUnreachable(
            f"{node} cannot be reached ({exc or type(exc).__name__}); check that the node "
            "service runs (vpshealth service --api) and the connection to it, then sync again",
            _transport_problem(exc),
        ) from None
    if response.status_code == 401:
        raise NodeTokenRefused(
            f"{node} refused the token: the token was revoked or is wrong: "
            "vpshealth node connect again with a new token"
        )
    if response.status_code == 403:
        raise NodeTokenRefused(f"{node} refused the token for {path}: {_detail(response)}")
    if response.status_code >= 500:
        raise NodeFailed(
            f"{node} failed to answer {path} (HTTP {response.status_code}: "
            f"{_detail(response)}); see the node's log, then sync again"
        )
    if response.status_code != 200:
        raise NodeFailed(
            f"{node} answered {path} with HTTP {response.status_code}: {_detail(response)}; "
            "is the node running the same version of VPS Health?"
        )
    return response


def _transport_problem(exc: httpx.TransportError) -> NodeProblem:
    """A refused connection, or one closed without an answer (through the SSH tunnel: the
    node's API is down); else the network."""
    if isinstance(exc, httpx.ConnectError) and "refused" not in str(exc).lower():
        return NodeProblem.UNREACHABLE
    if isinstance(exc, httpx.ConnectError | httpx.RemoteProtocolError | httpx.ReadError):
        return NodeProblem.API_NOT_ANSWERING
    return NodeProblem.UNREACHABLE


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or "no detail"


def _json(client: httpx.AsyncClient, response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError as exc:
        raise NodeFailed(f"{_node(client)} sent a state page that is not JSON: {exc}") from None

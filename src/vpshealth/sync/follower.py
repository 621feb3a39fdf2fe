"""Keeping the copy in sync after a catch-up: the node's live stream (``/api/v1/live``) is a
doorbell. Any message means "something changed": after a short quiet spell the follower runs
a small catch-up from the cursor, which is what keeps the copy gap-free, whatever the stream
said. A ``gap`` message or a dropped stream: catch up again, then subscribe anew.

The WebSocket client is the ``websockets`` package: the service's own stack (uvicorn serves
the stream with it), already a dependency, with keepalive pings built in."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from vpshealth.clock import Clock
from vpshealth.sync.catch_up import (
    CatchUpReport,
    NodeSyncError,
    NodeTokenRefused,
    NodeUnreachable,
    catch_up,
)
from vpshealth.sync.node_session import NodeError, NodeProblem
from vpshealth.sync.node_watch import NodeWatch

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 1.0
"""A catch-up runs once the stream has been quiet this long after a message ..."""
IDLE_SYNC_SECONDS = 60.0
"""With no message for this long, a catch-up runs anyway: what another process changed in the
node's database (the CLI there) rings no bell."""
MAX_DELAY_SECONDS = 5.0
"""... or this long after the first message it answers, on a busy node."""
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
LIVE_PATH = "/api/v1/live"
PING_SECONDS = 10.0
"""The live stream's keepalive: a ping this often, and a node that does not answer one in
this time (stopped, or the network gone) ends the stream, as a failure."""

ClientFactory = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]
"""Opens the connection to the node (a tunnel, or https) and gives a client for its API."""
StreamOpener = Callable[[httpx.AsyncClient, int], AbstractAsyncContextManager[AsyncIterator[str]]]
"""Subscribes to the live stream after a sequence number: the messages as text."""
CatchUp = Callable[[httpx.AsyncClient, Engine, Clock], Awaitable[CatchUpReport]]
AfterSync = Callable[[CatchUpReport], Awaitable[None]]
"""Runs after every catch-up (the desktop's notices, pruning the copy); its errors are
logged."""
BeforeSync = Callable[[httpx.AsyncClient], Awaitable[None]]
"""Runs on each (re)connection before the first catch-up: the desktop's queued edits."""


@dataclass
class FollowerStatus:
    """What ``vpshealth node status`` and the tray show."""

    connected: bool = False
    """Subscribed to the node's live stream, the copy caught up."""
    last_synced_at: float | None = None
    """When the last catch-up ended (the desktop's clock)."""
    pending_since: float | None = None
    """When the oldest change not caught up yet was announced."""
    last_error: str | None = None
    catch_ups: int = 0
    silent_since: float | None = None
    """When the node stopped answering (None: it answers, or it was never reached)."""
    problem: NodeProblem | None = None
    """Why it does not answer: down, the network, the token refused ..."""
    last_seq_seen: int | None = None
    """The last number seen on the node's live stream."""
    copy_seq: int | None = None
    """The live stream's number the copy is caught up to (its ``sync.live_seq``)."""

    def lag_messages(self) -> int | None:
        """How many live messages the copy is behind; None before the first sync."""
        if self.copy_seq is None:
            return None
        return max(0, (self.last_seq_seen or 0) - self.copy_seq)

    def lag_seconds(self, now: float) -> float | None:
        """How far behind the node the copy may be; None before the first sync."""
        if self.pending_since is not None:
            return max(0.0, now - self.pending_since)
        if self.connected:
            return 0.0
        return None if self.last_synced_at is None else max(0.0, now - self.last_synced_at)


class StreamGap(Exception):
    """The node says the stream missed messages: catch up, then subscribe anew."""


@contextlib.asynccontextmanager
async def websocket_stream(
    client: httpx.AsyncClient, after: int
) -> AsyncIterator[AsyncIterator[str]]:
    """The live stream at the client's node, with its token."""
    base = str(client.base_url).rstrip("/")
    url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    headers = {"Authorization": client.headers.get("Authorization", "")}
    try:
        async with connect(
            f"{url}{LIVE_PATH}?after={after}",
            additional_headers=headers,
            proxy=None,
            ping_interval=PING_SECONDS,
            ping_timeout=PING_SECONDS,
        ) as ws:

            async def texts() -> AsyncIterator[str]:
                async for message in ws:
                    yield message if isinstance(message, str) else message.decode()

            yield texts()
    except InvalidStatus as exc:
        if exc.response.status_code == 401:
            raise NodeTokenRefused(
                f"the node at {client.base_url} refused the token for its live stream: the "
                "token was revoked or is wrong: vpshealth node connect again with a new token"
            ) from None
        raise


class Follower:
    def __init__(
        self,
        client_factory: ClientFactory,
        copy: Engine,
        clock: Clock,
        *,
        stream: StreamOpener = websocket_stream,
        catch_up: CatchUp = catch_up,
        debounce: float = DEBOUNCE_SECONDS,
        idle_sync: float = IDLE_SYNC_SECONDS,
        after_sync: AfterSync | None = None,
        watch: NodeWatch | None = None,
        before_sync: BeforeSync | None = None,
    ) -> None:
        self._client_factory = client_factory
        self._copy = copy
        self._clock = clock
        self._stream = stream
        self._catch_up = catch_up
        self._debounce = debounce
        self._idle_sync = idle_sync
        self._after_sync = after_sync
        self._watch = watch
        self._before_sync = before_sync
        self.status = FollowerStatus()
        self._rings = 0
        self._retry = FIRST_RETRY_SECONDS

    async def run(self) -> None:
        """Until cancelled: catch up, follow, and after a failure try again with a growing
        pause (the status says what failed)."""
        while True:
            try:
                await self._session()
            except StreamGap as gap:
                log.info("Sync: %s; catching up again", gap)
            except (NodeSyncError, NodeError, OSError, WebSocketException, httpx.HTTPError) as exc:
                self.status.last_error = str(exc) or type(exc).__name__
                log.warning("Sync: %s; trying again in %.0f s", self.status.last_error, self._retry)
                self._failed(problem_of(exc))
            finally:
                self.status.connected = False
            await self._clock.sleep(self._retry)
            self._retry = min(MAX_RETRY_SECONDS, self._retry * 2)

    async def _session(self) -> None:
        async with self._client_factory() as client:
            if self._before_sync is not None:
                await self._before_sync(client)
            report = await self._sync(client)
            async with self._stream(client, report.live_seq) as messages:
                self.status.connected = True
                self.status.last_error = None
                self._retry = FIRST_RETRY_SECONDS
                rung = asyncio.Event()
                listening = asyncio.ensure_future(self._listen(messages, rung))
                try:
                    while True:
                        # No ring for a while: a change may have rung no bell (a CLI edit
                        # on the node).
                        if await _rung_within(rung, listening, self._idle_sync):
                            await self._quiet(rung, listening)
                        await self._sync(client)
                finally:
                    listening.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listening

    async def _listen(self, messages: AsyncIterator[str], rung: asyncio.Event) -> None:
        """Rings for every message; returns when the stream ends (raising ``StreamGap`` for a
        gap)."""
        async for text in messages:
            self._rings += 1
            if self.status.pending_since is None:
                self.status.pending_since = self._clock.now()
            rung.set()
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                message = json.loads(text)
                if isinstance(message.get("seq"), int):
                    self.status.last_seq_seen = message["seq"]
                if message.get("kind") == "gap":
                    raise StreamGap(str(message.get("data", {}).get("message", "gap")))

    async def _quiet(self, rung: asyncio.Event, listening: asyncio.Future[None]) -> None:
        """Wait until no message came for the debounce time (at most ``MAX_DELAY_SECONDS``)."""
        waited = 0.0
        while waited < MAX_DELAY_SECONDS:
            rung.clear()
            if not await _rung_within(rung, listening, self._debounce):
                return
            waited += self._debounce

    async def _sync(self, client: httpx.AsyncClient) -> CatchUpReport:
        rings, started = self._rings, self._clock.now()
        report = await self._catch_up(client, self._copy, self._clock)
        self.status.last_synced_at = self._clock.now()
        self.status.catch_ups += 1
        # A message during the catch-up may announce a change it did not see yet.
        self.status.pending_since = None if self._rings == rings else started
        self.status.copy_seq = report.live_seq
        self.status.last_seq_seen = max(report.live_seq, self.status.last_seq_seen or 0)
        if self._watch is not None:
            self._watch.reached(self._clock.now())
            self._show_watch()
        if self._after_sync is not None:
            try:
                await self._after_sync(report)
            except Exception:
                log.exception("Sync: the work after a catch-up failed; the copy is caught up")
        return report

    def _failed(self, problem: NodeProblem) -> None:
        if self._watch is not None:
            self._watch.failed(self._clock.now(), problem, self.status.last_error or "")
            self._show_watch()

    def _show_watch(self) -> None:
        assert self._watch is not None
        self.status.silent_since = self._watch.alarm.silent_since
        self.status.problem = self._watch.alarm.problem


def problem_of(exc: BaseException) -> NodeProblem:
    """Why a session failed, as the tray and the silence alarm say it."""
    if isinstance(exc, NodeError | NodeUnreachable):
        return exc.problem
    if isinstance(exc, NodeTokenRefused):
        return NodeProblem.TOKEN_REFUSED
    if isinstance(exc, NodeSyncError):
        return NodeProblem.NOT_A_NODE
    # The stream's ping or a request not answered, or a refused connection: the API is down.
    not_answering = httpx.TimeoutException | TimeoutError | WebSocketException
    if isinstance(exc, not_answering | ConnectionRefusedError):
        return NodeProblem.API_NOT_ANSWERING
    return NodeProblem.UNREACHABLE


async def _rung_within(
    rung: asyncio.Event, listening: asyncio.Future[None], seconds: float
) -> bool:
    """Whether the bell rang within ``seconds``. ``asyncio.timeout``, not ``wait_for``: on
    Python 3.11, ``wait_for`` loses a cancellation that comes as the bell rings, and then
    ``node follow`` did not stop on Ctrl-C."""
    try:
        async with asyncio.timeout(seconds):
            await _first(rung, listening)
    except TimeoutError:
        return False
    return True


async def _first(rung: asyncio.Event, listening: asyncio.Future[None]) -> None:
    """Returns when the bell rings; raises what ended the stream (``StreamGap``, a dropped
    connection), or ``StreamEnded`` when it closed."""
    if rung.is_set():
        return
    waiting: asyncio.Future[object] = asyncio.ensure_future(rung.wait())
    watched: set[asyncio.Future[object]] = {waiting, listening}  # type: ignore[arg-type]
    try:
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if rung.is_set():
        return
    if listening.done():
        listening.result()  # raises what ended it
        raise StreamEnded("the node closed its live stream")


class StreamEnded(ConnectionError):
    """The live stream closed: catch up and subscribe again."""

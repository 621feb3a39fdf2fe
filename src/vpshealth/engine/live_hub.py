"""Hands the live stream's messages, once committed, to every subscriber (the API's WebSocket
clients). Each subscriber has a bounded queue: one that falls too far behind is dropped with
a reason, and resumes from the database (``?after=``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Collection, Sequence

from vpshealth.domain.live import ALL_KINDS, LiveKind, LiveMessage

log = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000
"""Messages a subscriber may have waiting: 100 s of check results at 1,000 hosts."""
FILL_LIMIT = 10_000
"""Messages of other processes filled in at once; beyond, every subscriber resumes."""

MissedReader = Callable[[int, int], list[LiveMessage]]
"""(low, high) → the logged messages with low < seq < high."""


class SubscriberDropped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Subscription:
    """Messages published since ``LiveHub.subscribe``, of ``kinds``, in order. Use on the event
    loop's thread."""

    def __init__(self, hub: LiveHub, kinds: Collection[LiveKind], limit: int) -> None:
        self.kinds = frozenset(kinds)
        self._hub = hub
        self._limit = limit
        self._pending: deque[LiveMessage] = deque()
        self._wake = asyncio.Event()
        self.dropped: str | None = None

    def offer(self, messages: Sequence[LiveMessage]) -> None:
        if self.dropped is not None:
            return
        wanted = [m for m in messages if m.kind in self.kinds]
        if not wanted:
            return
        if len(self._pending) + len(wanted) > self._limit:
            self.drop(f"more than {self._limit} messages were waiting to be sent")
            return
        self._pending.extend(wanted)
        self._wake.set()

    def drop(self, reason: str) -> None:
        self.dropped = reason
        self._pending.clear()
        self._wake.set()
        self._hub.unsubscribe(self)

    async def next_batch(self) -> list[LiveMessage]:
        """What is waiting, once something is; raises ``SubscriberDropped``."""
        while not self._pending and self.dropped is None:
            self._wake.clear()
            await self._wake.wait()
        if self.dropped is not None:
            raise SubscriberDropped(self.dropped)
        batch = list(self._pending)
        self._pending.clear()
        return batch

    def close(self) -> None:
        self._hub.unsubscribe(self)


class LiveHub:
    """``publish`` is called on the writer thread after each commit; subscribers live on the
    event loop. Messages go out in the order of their numbers: when a commit's first number is
    not the next one, another process (a one-off check, the CLI acknowledging an incident)
    wrote in between, and ``missed`` reads those messages so that they go out first."""

    def __init__(
        self, *, last_seq: int = 0, missed: MissedReader | None = None, limit: int = QUEUE_LIMIT
    ) -> None:
        self._last_seq = last_seq
        self._missed = missed
        self._limit = limit
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def last_seq(self) -> int:
        """The number of the last message published."""
        return self._last_seq

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self, kinds: Collection[LiveKind] = ALL_KINDS) -> Subscription:
        """On the event loop: from now on, every message of ``kinds`` published."""
        self._loop = asyncio.get_running_loop()
        subscription = Subscription(self, kinds, self._limit)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def publish(self, messages: Sequence[LiveMessage]) -> None:
        """Committed messages, in order; from any thread (one at a time: the writer's)."""
        if not messages:
            return
        with self._lock:
            found = list(messages)
            if not self._subscribers:  # nobody to fill in for
                self._last_seq = max(self._last_seq, found[-1].seq)
                return
            behind = found[0].seq - self._last_seq - 1
            if behind > 0 and self._missed is not None:
                if behind > FILL_LIMIT:
                    self._deliver_soon(None)
                else:
                    found = self._missed(self._last_seq, found[0].seq) + found
            found = [m for m in found if m.seq > self._last_seq]
            if not found:
                return
            self._last_seq = found[-1].seq
            self._deliver_soon(found)

    def _deliver_soon(self, messages: list[LiveMessage] | None) -> None:
        loop = self._loop
        if loop is None or not self._subscribers:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the service stops
            loop.call_soon_threadsafe(self._deliver, messages)

    def _deliver(self, messages: list[LiveMessage] | None) -> None:
        for subscription in list(self._subscribers):
            if messages is None:
                subscription.drop("other processes wrote many messages at once")
            else:
                subscription.offer(messages)

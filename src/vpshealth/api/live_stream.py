"""Resuming the live stream without a gap or a duplicate: the subscription is taken first (it
buffers what is published meanwhile), then what the log holds after the client's last number is
sent page by page, then the buffered and live messages numbered after the last one sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from vpshealth.domain.live import JsonObject, LiveKind, LiveMessage, iso
from vpshealth.engine.live_hub import Subscription

PageReader = Callable[[int], Awaitable[list[LiveMessage]]]
"""seq → the next page of logged messages after it (empty at the end)."""
Sender = Callable[[LiveMessage], Awaitable[None]]


@dataclass
class Cursor:
    """The number of the last message sent (or the client's ``after``)."""

    last: int


async def send_backlog(cursor: Cursor, read_page: PageReader, send: Sender) -> None:
    while page := await read_page(cursor.last):
        for message in page:
            if message.seq > cursor.last:
                await send(message)
                cursor.last = message.seq


async def send_live(cursor: Cursor, subscription: Subscription, send: Sender) -> None:
    """Until cancelled; raises ``SubscriberDropped`` when the subscription falls behind."""
    while True:
        for message in await subscription.next_batch():
            if message.seq > cursor.last:
                await send(message)
                cursor.last = message.seq


async def resume(
    cursor: Cursor, subscription: Subscription, read_page: PageReader, send: Sender
) -> None:
    """``subscription`` must have been taken before this is called."""
    await send_backlog(cursor, read_page, send)
    await send_live(cursor, subscription, send)


def gap_message(
    after: int,
    kinds: Collection[LiveKind],
    complete_from: dict[LiveKind, int],
    last_seq: int,
    now: float,
) -> JsonObject | None:
    """The ``gap`` message owed to a client resuming ``after``, or None: some messages of the
    kinds it wants were pruned, or the log ends before ``after`` (the node's database was
    replaced or restored)."""
    if after > last_seq:
        start = last_seq + 1
        message = (
            f"This node's log ends at {last_seq}, before the seq {after} you resumed from: its "
            "database was replaced or restored. Re-read everything, then follow this stream."
        )
        missed = sorted(kinds)
    else:
        missed = sorted(k for k in kinds if complete_from.get(k, 0) > after + 1)
        if not missed:
            return None
        start = max(complete_from[k] for k in missed)
        message = (
            f"Messages of kind {', '.join(missed)} before seq {start} are no longer kept. "
            "Re-read what they report (hosts, incidents, notifications), then follow this stream."
        )
    return {
        "seq": None,
        "kind": "gap",
        "at": iso(now),
        "host": None,
        "data": {"after": after, "complete_from": start, "kinds": missed, "message": message},
    }

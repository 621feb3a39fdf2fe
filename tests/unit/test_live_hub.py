"""The live hub (subscriptions, a slow subscriber dropped, messages of other processes filled
in) and resuming a stream while messages keep arriving: no gap, no duplicate."""

from __future__ import annotations

import asyncio
import threading

import pytest

from vpshealth.api.live_stream import Cursor, gap_message, resume, send_backlog
from vpshealth.domain.live import LiveKind, LiveMessage
from vpshealth.engine.live_hub import LiveHub, SubscriberDropped

T0 = 1_800_000_000.0


def message(seq: int, kind: LiveKind = LiveKind.CHECK) -> LiveMessage:
    return LiveMessage(seq, kind, T0 + seq, 1, "web1", {"n": seq})


def seqs(messages: list[LiveMessage]) -> list[int]:
    return [m.seq for m in messages]


async def settle() -> None:
    """Let the deliveries scheduled with call_soon_threadsafe run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_subscriber_gets_what_is_published_after_it_subscribed_of_its_kinds() -> None:
    hub = LiveHub()
    hub.publish([message(1)])
    checks = hub.subscribe({LiveKind.CHECK})
    states = hub.subscribe({LiveKind.STATE})
    hub.publish([message(2), message(3, LiveKind.STATE)])
    hub.publish([message(4)])
    await settle()
    assert seqs(await checks.next_batch()) == [2, 4]
    assert seqs(await states.next_batch()) == [3]
    assert hub.last_seq == 4


async def test_publishing_from_the_writer_thread_reaches_the_loop_in_order() -> None:
    hub = LiveHub()
    subscription = hub.subscribe()

    def writer() -> None:
        for seq in range(1, 201):
            hub.publish([message(seq)])

    thread = threading.Thread(target=writer)
    thread.start()
    received: list[int] = []
    async with asyncio.timeout(10):
        while len(received) < 200:
            received += seqs(await subscription.next_batch())
    thread.join()
    assert received == list(range(1, 201))


async def test_a_subscriber_that_falls_behind_is_dropped_with_a_reason() -> None:
    hub = LiveHub(limit=5)
    slow = hub.subscribe()
    fast = hub.subscribe()
    hub.publish([message(seq) for seq in range(1, 4)])
    await settle()
    assert seqs(await fast.next_batch()) == [1, 2, 3]
    hub.publish([message(seq) for seq in range(4, 7)])  # slow has 6 waiting: one too many
    await settle()
    with pytest.raises(SubscriberDropped, match="more than 5 messages"):
        await slow.next_batch()
    assert seqs(await fast.next_batch()) == [4, 5, 6]
    assert hub.subscribers == 1


async def test_messages_written_by_another_process_are_filled_in_before_the_next() -> None:
    logged = {seq: message(seq) for seq in range(1, 10)}
    asked: list[tuple[int, int]] = []

    def missed(low: int, high: int) -> list[LiveMessage]:
        asked.append((low, high))
        return [logged[s] for s in range(low + 1, high)]

    hub = LiveHub(last_seq=2, missed=missed)
    subscription = hub.subscribe()
    hub.publish([logged[3]])
    hub.publish([logged[6], logged[7]])  # 4 and 5: a one-off check in another process
    await settle()
    assert seqs(await subscription.next_batch()) == [3, 4, 5, 6, 7]
    assert asked == [(3, 6)]


async def test_too_much_written_elsewhere_at_once_makes_every_subscriber_resume(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("vpshealth.engine.live_hub.FILL_LIMIT", 3)
    hub = LiveHub(last_seq=1, missed=lambda low, high: pytest.fail("read too much"))
    subscription = hub.subscribe()
    hub.publish([message(10)])
    await settle()
    with pytest.raises(SubscriberDropped, match="other processes"):
        await subscription.next_batch()


class CommittingLog:
    """A log that, while a page of the backlog is being read, commits and publishes new
    messages: the race between the backlog and the live stream, made to happen every time."""

    def __init__(self, hub: LiveHub, stored: int, page_size: int) -> None:
        self.hub = hub
        self.rows = [message(seq) for seq in range(1, stored + 1)]
        self.page_size = page_size
        self.reads = 0

    def commit(self, count: int) -> None:
        new = [message(len(self.rows) + 1 + i) for i in range(count)]
        self.rows += new
        self.hub.publish(new)

    async def read_page(self, after: int) -> list[LiveMessage]:
        self.reads += 1
        page = [m for m in self.rows if m.seq > after][: self.page_size]
        if self.reads <= 3:
            self.commit(2)  # after the page was read: in the log and in the buffer
        await settle()
        return page


async def test_a_resume_while_messages_arrive_has_no_gap_and_no_duplicate() -> None:
    hub = LiveHub(last_seq=5)
    log = CommittingLog(hub, stored=5, page_size=2)
    subscription = hub.subscribe()  # first, so that nothing published meanwhile is lost
    received: list[LiveMessage] = []

    async def send(m: LiveMessage) -> None:
        received.append(m)

    cursor = Cursor(2)
    streaming = asyncio.create_task(resume(cursor, subscription, log.read_page, send))
    async with asyncio.timeout(5):
        while cursor.last < 11:
            await asyncio.sleep(0.01)
        log.commit(1)  # live, after the backlog
        while cursor.last < 12:
            await asyncio.sleep(0.01)
    streaming.cancel()
    await asyncio.gather(streaming, return_exceptions=True)
    assert seqs(received) == list(range(3, 13))
    assert log.reads >= 4  # the backlog was read in pages while messages came in


async def test_the_backlog_is_read_page_by_page_until_the_end() -> None:
    pages = {0: [message(1), message(2)], 2: [message(3)], 3: []}
    sent: list[LiveMessage] = []

    async def read_page(after: int) -> list[LiveMessage]:
        return pages[after]

    async def send(m: LiveMessage) -> None:
        sent.append(m)

    cursor = Cursor(0)
    await send_backlog(cursor, read_page, send)
    assert seqs(sent) == [1, 2, 3]
    assert cursor.last == 3


def test_a_gap_is_reported_when_messages_after_the_cursor_were_pruned() -> None:
    kinds = {LiveKind.CHECK, LiveKind.STATE}
    complete_from = {LiveKind.CHECK: 100}
    assert gap_message(99, kinds, complete_from, 500, T0) is None
    assert gap_message(50, {LiveKind.STATE}, complete_from, 500, T0) is None
    gap = gap_message(50, kinds, complete_from, 500, T0)
    assert gap is not None
    assert gap["kind"] == "gap"
    assert gap["seq"] is None
    assert gap["data"]["complete_from"] == 100
    assert gap["data"]["kinds"] == ["check"]
    assert "before seq 100 are no longer kept" in gap["data"]["message"]


def test_a_cursor_beyond_the_end_of_the_log_is_a_gap_too() -> None:
    gap = gap_message(900, {LiveKind.CHECK}, {}, 500, T0)
    assert gap is not None
    assert gap["data"]["complete_from"] == 501
    assert "replaced or restored" in gap["data"]["message"]


async def test_without_subscribers_nothing_is_read_to_fill_in() -> None:
    hub = LiveHub(last_seq=1, missed=lambda low, high: pytest.fail("read for nobody"))
    hub.publish([message(5)])
    assert hub.last_seq == 5

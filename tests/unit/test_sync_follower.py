"""The follower: the live stream as a doorbell (a burst of messages, one catch-up), a gap or a
closed stream → catch up again and subscribe anew; its status."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from websockets.exceptions import ConnectionClosedError

from tests.unit.fake_clock import FakeClock
from vpshealth.clock import Clock, SystemClock
from vpshealth.domain.notifications import Notification
from vpshealth.store.database import open_database
from vpshealth.sync.catch_up import CatchUpReport, NodeTokenRefused, NodeUnreachable
from vpshealth.sync.follower import Follower, problem_of
from vpshealth.sync.node_session import NodeError, NodeProblem
from vpshealth.sync.node_watch import NodeWatch, SilenceAlarm


class FakeNode:
    def __init__(self) -> None:
        self.catch_ups = 0
        self.subscribed_after: list[int] = []
        self.feeds: list[asyncio.Queue[str | None]] = []

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(base_url="http://node") as client:
            yield client

    async def catch_up(
        self, _client: httpx.AsyncClient, _copy: Engine, _clock: Clock
    ) -> CatchUpReport:
        self.catch_ups += 1
        return CatchUpReport("n", 1, 1, 100, 0.01, live_seq=10 * self.catch_ups)

    @contextlib.asynccontextmanager
    async def stream(
        self, _client: httpx.AsyncClient, after: int
    ) -> AsyncIterator[AsyncIterator[str]]:
        self.subscribed_after.append(after)
        feed: asyncio.Queue[str | None] = asyncio.Queue()
        self.feeds.append(feed)

        async def messages() -> AsyncIterator[str]:
            while (text := await feed.get()) is not None:
                yield text

        yield messages()


async def until(condition: object, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_a_burst_of_messages_rings_for_one_catch_up(tmp_path: Path) -> None:
    node = FakeNode()
    copy = open_database(tmp_path / "copy.sqlite3")
    follower = Follower(node.client, copy, SystemClock(), stream=node.stream,
                        catch_up=node.catch_up, debounce=0.2)  # fmt: skip
    task = asyncio.create_task(follower.run())
    try:
        await until(lambda: follower.status.connected)
        assert node.catch_ups == 1
        assert node.subscribed_after == [10]
        assert follower.status.lag_seconds(0) == 0.0
        for seq in range(11, 16):
            node.feeds[-1].put_nowait(json.dumps({"seq": seq, "kind": "check"}))
        await asyncio.sleep(0.05)
        assert (follower.status.lag_seconds(SystemClock().now()) or 0) > 0
        await until(lambda: node.catch_ups == 2)
        await asyncio.sleep(0.4)
        assert node.catch_ups == 2
        assert follower.status.pending_since is None
        assert follower.status.last_synced_at is not None
    finally:
        task.cancel()
        copy.dispose()


async def test_a_gap_or_a_closed_stream_catches_up_and_subscribes_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = FakeNode()
    copy = open_database(tmp_path / "copy.sqlite3")
    follower = Follower(node.client, copy, SystemClock(), stream=node.stream,
                        catch_up=node.catch_up, debounce=0.05)  # fmt: skip
    task = asyncio.create_task(follower.run())
    try:
        await until(lambda: len(node.feeds) == 1)
        gap = {"seq": None, "kind": "gap", "data": {"message": "pruned"}}
        node.feeds[0].put_nowait(json.dumps(gap))
        await until(lambda: len(node.feeds) == 2)
        assert node.catch_ups == 2
        assert node.subscribed_after == [10, 20]
        node.feeds[1].put_nowait(None)  # the node closed the stream
        await until(lambda: len(node.feeds) == 3, 10)
        assert node.subscribed_after[-1] == 30
        assert "the node closed its live stream; trying again in 1 s" in caplog.text
        assert follower.status.connected
        assert follower.status.last_error is None  # cleared once subscribed again
    finally:
        task.cancel()
        copy.dispose()


async def test_a_refused_token_is_in_the_status_and_tried_again_later(tmp_path: Path) -> None:
    node = FakeNode()
    copy = open_database(tmp_path / "copy.sqlite3")

    async def refused(_client: httpx.AsyncClient, _copy: Engine, _clock: Clock) -> CatchUpReport:
        node.catch_ups += 1
        raise NodeTokenRefused("the token was revoked or is wrong: vpshealth node connect again")

    follower = Follower(node.client, copy, SystemClock(), stream=node.stream, catch_up=refused)
    task = asyncio.create_task(follower.run())
    try:
        await until(lambda: follower.status.last_error is not None)
        assert "vpshealth node connect again" in (follower.status.last_error or "")
        assert not follower.status.connected
        assert follower.status.lag_seconds(0) is None  # never synced
        assert node.feeds == []  # no subscription without a catch-up
        await until(lambda: node.catch_ups == 2, 3)  # after a second
    finally:
        task.cancel()
        copy.dispose()


class Shown:
    def __init__(self) -> None:
        self.shown: list[Notification] = []

    def notify(self, notifications: Sequence[Notification]) -> None:
        self.shown.extend(notifications)


async def test_a_node_silent_longer_than_the_alarm_says_so_once_and_once_when_back(
    tmp_path: Path,
) -> None:
    node = FakeNode()
    copy = open_database(tmp_path / "copy.sqlite3")
    clock = FakeClock(1_800_000_000.0)
    down = True

    async def stopped(client: httpx.AsyncClient, copy: Engine, clock: Clock) -> CatchUpReport:
        if down:
            raise NodeUnreachable("the node did not answer in time", NodeProblem.API_NOT_ANSWERING)
        return await node.catch_up(client, copy, clock)

    shown = Shown()
    watch = NodeWatch(SilenceAlarm("root@node1", threshold=180), [shown])
    follower = Follower(node.client, copy, clock, stream=node.stream, catch_up=stopped, watch=watch)
    task = asyncio.create_task(follower.run())
    try:
        await clock.advance(170)
        assert shown.shown == []
        assert follower.status.silent_since is None
        assert follower.status.problem is NodeProblem.API_NOT_ANSWERING
        await clock.advance(600)
        (silent,) = shown.shown
        assert silent.summary.startswith("root@node1: the node is silent since ")
        assert "down: its API does not answer" in silent.title
        assert follower.status.silent_since == 1_800_000_000.0
        down = False
        await clock.advance(60)
        await until(lambda: follower.status.connected)
        assert [n.kind.value for n in shown.shown] == ["opened", "resolved"]
        assert shown.shown[1].title.startswith("the node is back: caught up ")
        assert follower.status.silent_since is None
        assert follower.status.problem is None
    finally:
        task.cancel()
        copy.dispose()


async def test_after_each_catch_up_the_hook_runs_and_the_lag_counts_messages(
    tmp_path: Path,
) -> None:
    node = FakeNode()
    copy = open_database(tmp_path / "copy.sqlite3")
    reports: list[CatchUpReport] = []

    async def after(report: CatchUpReport) -> None:
        reports.append(report)
        raise RuntimeError("a hook that fails does not stop the follower")

    follower = Follower(
        node.client, copy, SystemClock(), stream=node.stream, catch_up=node.catch_up,
        debounce=0.05, after_sync=after,
    )  # fmt: skip
    task = asyncio.create_task(follower.run())
    try:
        await until(lambda: follower.status.connected)
        assert follower.status.lag_messages() == 0
        await node.feeds[0].put(json.dumps({"seq": 17, "kind": "check"}))
        await until(lambda: follower.status.last_seq_seen == 17)
        assert follower.status.lag_messages() == 7  # the copy is at 10
        await until(lambda: len(reports) == 2)
        assert follower.status.lag_messages() == 0  # the copy is at 20
        assert follower.status.connected
    finally:
        task.cancel()
        copy.dispose()


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (NodeUnreachable("timed out", NodeProblem.API_NOT_ANSWERING), "down: "),
        (NodeUnreachable("no route to host"), "network: "),
        (NodeTokenRefused("HTTP 401"), "token revoked: "),
        (NodeError(NodeProblem.HOST_KEY_CHANGED, "the host key has CHANGED"), "host key changed: "),
        (ConnectionClosedError(None, None), "down: "),
        (ConnectionRefusedError(), "down: "),
        (OSError("Network is unreachable"), "network: "),
    ],
)
def test_the_alarm_names_why_the_node_is_silent(exc: BaseException, said: str) -> None:
    alarm = SilenceAlarm("root@node1", threshold=0)

    notification = alarm.failed(0.0, problem_of(exc), str(exc))

    assert notification is not None
    assert f"({said}" in notification.title


async def test_with_no_message_for_a_while_it_catches_up_anyway(tmp_path: Path) -> None:
    node = FakeNode()
    copy = open_database(tmp_path / "copy.sqlite3")
    follower = Follower(node.client, copy, SystemClock(), stream=node.stream,
                        catch_up=node.catch_up, idle_sync=0.2)  # fmt: skip
    task = asyncio.create_task(follower.run())
    try:
        await until(lambda: node.catch_ups >= 3)
        assert node.subscribed_after == [10]  # the same subscription all along
        assert follower.status.connected
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        copy.dispose()

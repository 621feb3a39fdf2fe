"""The queue of edits made while the node did not answer: sent in order, each whole; one the
node refuses leaves the queue with a report, a network failure keeps what is left queued."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.unit.fake_clock import FakeClock
from vpshealth.store.database import open_database
from vpshealth.sync.edit_queue import REPORTS_KEPT, Edit, EditQueue
from vpshealth.sync.edit_sender import EditRefused, send_edit, send_queued
from vpshealth.sync.node_session import NodeError, NodeProblem

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def queue(tmp_path: Path) -> EditQueue:
    return EditQueue(open_database(tmp_path / "node-copy.sqlite3"))


def _client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url="http://node", transport=httpx.MockTransport(handler))


def _send(queue: EditQueue, handler: Handler) -> object:
    async def run() -> object:
        async with _client(handler) as client:
            return await send_queued(client, queue, FakeClock(100.0))

    return asyncio.run(run())


def _edit(n: int) -> Edit:
    return Edit(f"host edit web{n}", "PATCH", f"/api/v1/hosts/web{n}", {"port": 2200 + n})


def test_queued_edits_are_sent_in_the_order_made(queue: EditQueue) -> None:
    for n in (3, 1, 2):
        queue.put(_edit(n), 10.0 + n)
    seen: list[str] = []

    def node(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        assert json.loads(request.content)["port"] == 2200 + int(request.url.path[-1])
        return httpx.Response(200, json={"kept": []})

    _send(queue, node)
    assert seen == ["/api/v1/hosts/web3", "/api/v1/hosts/web1", "/api/v1/hosts/web2"]
    assert queue.waiting() == []
    assert queue.reports() == []


def test_a_refused_edit_is_dropped_with_a_report_and_the_next_ones_go(queue: EditQueue) -> None:
    queue.put(Edit("host add web9", "POST", "/api/v1/hosts", {"name": "web9"}), 1.0)
    queue.put(_edit(2), 2.0)

    def node(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(409, json={"detail": "the name is taken"})
        return httpx.Response(200, json={})

    report = _send(queue, node)
    assert queue.waiting() == []
    assert [r.outcome for r in queue.reports()] == ["Not applied: host add web9: the name is taken"]
    assert report.applied == 1  # type: ignore[attr-defined]


def test_a_network_failure_keeps_the_edits_queued(queue: EditQueue) -> None:
    queue.put(_edit(1), 1.0)
    queue.put(_edit(2), 2.0)

    def node(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("web2"):
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, json={})

    with pytest.raises(NodeError) as raised:
        _send(queue, node)
    assert raised.value.problem is NodeProblem.UNREACHABLE
    assert [q.edit.summary for q in queue.waiting()] == ["host edit web2"]


def test_fields_the_node_kept_are_reported_in_one_line_each(queue: EditQueue) -> None:
    queue.put(_edit(1), 1.0)

    def node(request: httpx.Request) -> httpx.Response:
        kept = [{"field": "interval_seconds", "kept": 75, "lost": 120}]
        return httpx.Response(200, json={"kept": kept})

    _send(queue, node)
    assert [r.outcome for r in queue.reports()] == [
        "Applied in part: host edit web1: web1: interval_seconds was changed on the node "
        "meanwhile; it keeps 75, your 120 was not applied."
    ]


def test_a_refused_token_is_not_a_refused_edit(queue: EditQueue) -> None:
    async def run() -> None:
        async with _client(lambda _r: httpx.Response(401)) as client:
            await send_edit(client, _edit(1))

    with pytest.raises(NodeError) as raised:
        asyncio.run(run())
    assert not isinstance(raised.value, EditRefused)
    assert raised.value.problem is NodeProblem.TOKEN_REFUSED


@pytest.mark.parametrize("n", [0, 3, REPORTS_KEPT, REPORTS_KEPT + 7])
def test_only_the_newest_reports_are_kept(queue: EditQueue, n: int) -> None:
    ids = [queue.put(_edit(i), float(i)) for i in range(n)]
    for i in ids:
        queue.settled(i, f"report {i}", 1.0)
    assert [r.id for r in queue.reports()] == ids[-REPORTS_KEPT:]

"""Keeping garbage-collection pauses short: what is frozen, what gets freed, and that a
stopped service leaves the collector as it found it."""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref

import pytest

from vpshealth.engine import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_freezing_moves_live_objects_out_of_the_collectors_sight() -> None:
    try:
        heap.freeze()
        assert gc.get_freeze_count() > 0
        assert gc.get_count()[0] < 10  # the young generation starts afresh
    finally:
        gc.unfreeze()


def test_cycles_that_die_after_a_freeze_are_freed_by_the_full_collection() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    try:
        heap.freeze()
        del a, b
        gc.collect()
        assert alive() is not None  # frozen: the ordinary collections leave it alone
        assert heap.full_collection() >= 2
        assert alive() is None
    finally:
        gc.unfreeze()


def test_the_service_task_freezes_as_it_runs_and_unfreezes_when_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(heap, "CHECK_EVERY", 0.01)

    async def scenario() -> tuple[int, int]:
        task = asyncio.create_task(heap.keep_pauses_short())
        await asyncio.sleep(0.1)
        frozen = gc.get_freeze_count()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return frozen, gc.get_freeze_count()

    callbacks = list(gc.callbacks)
    frozen, after = asyncio.run(scenario())
    assert frozen > 0
    assert after == 0
    assert gc.callbacks == callbacks


def test_what_survives_a_collection_is_not_walked_by_the_next_one() -> None:
    def walked(thing: object) -> bool:
        return any(o is thing for o in gc.get_objects())

    async def scenario() -> tuple[bool, bool]:
        task = asyncio.create_task(heap.keep_pauses_short())
        await asyncio.sleep(0)
        survivor = Node()
        before = walked(survivor)
        gc.collect(0)
        after = walked(survivor)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return before, after

    assert asyncio.run(scenario()) == (True, False)


def test_the_daily_full_collection_runs_on_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "CHECK_EVERY", 0.01)
    monkeypatch.setattr(heap, "FULL_COLLECTION_EVERY", 0.03)
    runs: list[int] = []
    monkeypatch.setattr(heap, "full_collection", lambda: runs.append(1) or 0)

    async def scenario() -> None:
        task = asyncio.create_task(heap.keep_pauses_short())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert 1 <= len(runs) <= 7


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_malloc_arenas_can_be_limited_on_linux() -> None:
    assert heap.limit_malloc_arenas() is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_free_memory_can_be_handed_back_on_linux() -> None:
    assert heap.return_free_memory() is True


def test_many_dropped_connections_bring_the_full_collection_forward(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(heap, "CHECK_EVERY", 0.01)
    monkeypatch.setattr(heap, "FULL_COLLECTION_EVERY", 3600.0)
    monkeypatch.setattr(heap, "FULL_COLLECTION_GAP", 0.03)
    monkeypatch.setattr(heap, "RELEASED_LIMIT", 3)

    async def scenario(released: int) -> int:
        caplog.clear()
        heap.note_released(released)
        task = asyncio.create_task(heap.keep_pauses_short())
        await asyncio.sleep(0.15)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return sum("Full garbage collection" in r.getMessage() for r in caplog.records)

    caplog.set_level("INFO", logger="vpshealth.engine.heap")
    heap.full_collection()  # start from zero
    assert asyncio.run(scenario(released=2)) == 0
    assert asyncio.run(scenario(released=1)) == 1  # 2 + 1 reaches the limit
    assert heap.released() == 0

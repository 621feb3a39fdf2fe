"""SIGINT and SIGTERM stop the process, with or without the loop's signal handlers (Windows'
loops have none)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import pytest

from vpshealth.engine.stop_signals import on_stop_signals


class WindowsLikeLoop(asyncio.SelectorEventLoop):
    def add_signal_handler(self, sig: int, callback: Callable[..., object], *args: object) -> None:
        raise NotImplementedError

    def remove_signal_handler(self, sig: int) -> bool:
        raise NotImplementedError


async def stopped_by(sig: int) -> bool:
    stopped = asyncio.Event()
    undo = on_stop_signals(asyncio.get_running_loop(), stopped.set)
    try:
        signal.raise_signal(sig)
        await asyncio.wait_for(stopped.wait(), timeout=5)
        return stopped.is_set()
    finally:
        undo()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_loop_handlers_stop_and_are_removed(sig: int) -> None:
    before = signal.getsignal(sig)
    assert asyncio.run(stopped_by(sig))
    assert signal.getsignal(sig) == before


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_without_loop_handlers_signal_module_stops_and_is_restored(sig: int) -> None:
    before = signal.getsignal(sig)
    with asyncio.Runner(loop_factory=WindowsLikeLoop) as runner:
        assert runner.run(stopped_by(sig))
    assert signal.getsignal(sig) == before


def test_outside_the_main_thread_signals_are_left_alone() -> None:
    async def in_a_thread() -> None:
        def install() -> None:
            loop = asyncio.new_event_loop()
            try:
                on_stop_signals(loop, lambda: None)()
            finally:
                loop.close()

        await asyncio.to_thread(install)

    before = signal.getsignal(signal.SIGTERM)
    asyncio.run(in_a_thread())
    assert signal.getsignal(signal.SIGTERM) == before

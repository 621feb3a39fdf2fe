"""PySide6 6.12.0 drops a reference to ``True`` on every Python signal emit, which aborts the
interpreter after a few thousand emits (qasync emits one per ``asyncio.to_thread``). The lock
pins PySide6 below 6.12; these tests fail on a PySide6 with the bug."""

from __future__ import annotations

import asyncio
import sys

from PySide6.QtCore import QObject, Signal

from tests.gui.conftest import Loop

TIMES = 5000


class _Source(QObject):
    changed = Signal(object)


def test_emitting_keeps_the_reference_count_of_true(qapp: object) -> None:
    source = _Source()
    received: list[object] = []
    source.changed.connect(received.append)
    before = sys.getrefcount(True)
    for i in range(TIMES):
        source.changed.emit(i)
    assert len(received) == TIMES
    assert sys.getrefcount(True) >= before - 10


def test_many_thread_hand_offs_on_the_gui_loop(loop: Loop) -> None:
    async def many() -> int:
        total = 0
        for i in range(TIMES):
            total += await asyncio.to_thread(int, i)
        return total

    before = sys.getrefcount(True)
    assert loop.run(many()) == sum(range(TIMES))
    assert sys.getrefcount(True) >= before - 10

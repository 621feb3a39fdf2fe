"""The PySide6 reference bug workaround (see vpshealth.gui.signals): without it these tests
abort the interpreter or fail."""

from __future__ import annotations

import asyncio
import sys

from PySide6.QtCore import QObject, Signal

from tests.gui.conftest import Loop
from vpshealth.gui.signals import emit_drops_a_reference, install_emit_fix

TIMES = 5000


class _Source(QObject):
    changed = Signal(object)


def test_after_the_fix_emit_loses_nothing(qapp: object) -> None:
    """On a PySide6 without the bug the fix is not installed; with it, it is (once)."""
    first = install_emit_fix()
    assert install_emit_fix() == first
    assert not emit_drops_a_reference()


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

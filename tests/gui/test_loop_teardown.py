"""The qasync loop the GUI tests share must not leave Qt timers behind: one firing during a
later test broke it (a KeyError inside qasync), once with a crash."""

from __future__ import annotations

import asyncio

import qasync
from PySide6.QtCore import QCoreApplication, QElapsedTimer
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import _kill_leftover_timers


def test_a_closed_loop_keeps_no_timers_running(qapp: QApplication) -> None:
    qloop = qasync.QEventLoop(qapp)
    ran: list[str] = []
    handle = qloop.call_later(0.05, ran.append, "cancelled")
    handle.cancel()
    qloop.call_later(30, ran.append, "long")  # still pending when the test ends
    qloop.close()
    _kill_leftover_timers(qloop)

    assert qloop._timer._SimpleTimer__callbacks == {}
    clock = QElapsedTimer()
    clock.start()
    while clock.elapsed() < 150:
        QCoreApplication.processEvents()
    assert ran == []
    asyncio.set_event_loop(None)

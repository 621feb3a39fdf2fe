"""Emitting Qt signals from Python without wearing down ``True``.

PySide6 6.12 on CPython 3.11 returns ``True`` from ``SignalInstance.emit()`` without taking a
reference; every emit from Python lowers the refcount of ``True`` by one, and after a few
thousand the interpreter aborts ("Fatal Python error: bool_dealloc"). qasync emits a signal
for every ``call_soon_threadsafe`` (each ``asyncio.to_thread``), so the app would crash within
minutes. ``emit`` gives the reference back when (and only when) this PySide6 has the bug."""

from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 16


class _Probe(QObject):
    ping = Signal()


@functools.cache
def emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    drops = sys.getrefcount(True) <= before - _PROBES
    if drops:
        for _ in range(_PROBES):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return drops


def emit(signal: SignalInstance, *args: Any) -> None:
    result: object = signal.emit(*args)  # type: ignore[func-returns-value]
    if result is True and emit_drops_a_reference():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))

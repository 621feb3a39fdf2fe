"""A fix for PySide6 6.12 on CPython 3.11: ``SignalInstance.emit()`` returns ``True`` without
taking a reference, so every emit from Python (ours, qasync's thread hand-off behind each
``asyncio.to_thread``, pyqtgraph's mouse and range signals) lowers the refcount of ``True`` by
one, and after a few thousand the interpreter aborts ("Fatal Python error: bool_dealloc").
``install_emit_fix`` wraps ``emit`` to give the reference back, only where the bug is seen.
The lock pins PySide6 below 6.12 now; this stays as a guard for whoever lifts the pin."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 16
_FIXED = "_vpshealth_gives_back_true"


class _Probe(QObject):
    ping = Signal()


def _give_back(count: int) -> None:
    for _ in range(count):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    if lost > 0:
        _give_back(lost)
    return lost >= _PROBES


def install_emit_fix() -> bool:
    """Idempotent; returns whether the fix is in place."""
    original = SignalInstance.emit
    if getattr(original, _FIXED, False):
        return True
    if not emit_drops_a_reference():
        return False

    def emit(self: SignalInstance, *args: Any) -> Any:
        result = original(self, *args)
        if result is True:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
        return result

    setattr(emit, _FIXED, True)
    SignalInstance.emit = emit  # type: ignore[method-assign]
    return True

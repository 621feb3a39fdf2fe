"""The asyncio loop on Qt's event loop (qasync), with thread hand-offs that do not trip the
PySide6 reference bug described in ``signals``."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import Context
from typing import Any

import qasync

from vpshealth.gui.signals import emit


class GuiEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    def call_soon_threadsafe(
        self, callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> None:
        emit(self._QEventLoop__call_soon_signal, callback, args)

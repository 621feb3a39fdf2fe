"""SIGINT and SIGTERM (and Ctrl-Break on Windows) stop the process cleanly, on every system.

The loop's own signal handlers are POSIX only: Windows' event loops raise NotImplementedError.
There a plain ``signal.signal`` handler hands the stop to the loop; Python's proactor loop
wakes up for it (``signal.set_wakeup_fd``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

_BREAK = getattr(signal, "SIGBREAK", None)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM) + ((_BREAK,) if _BREAK is not None else ())
"""Ctrl-C, a termination request, and Windows' Ctrl-Break."""

Undo = Callable[[], None]


def on_stop_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> Undo:
    """Call ``stop`` on the loop when SIGINT or SIGTERM arrives. The returned function puts
    the previous handling back. Outside the main thread signals cannot be caught: it logs
    that and leaves them alone."""
    try:
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop)
    except NotImplementedError:
        return _with_signal_module(loop, stop)
    except (ValueError, RuntimeError) as exc:
        log.debug("Signals are not caught here: %s", exc)
        return lambda: None

    def undo() -> None:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, ValueError, RuntimeError):
                loop.remove_signal_handler(sig)

    return undo


def _with_signal_module(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> Undo:
    def handle(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(stop)

    previous: dict[int, signal.Handlers | Callable[[int, FrameType | None], object] | int | None]
    previous = {}
    try:
        for sig in STOP_SIGNALS:
            previous[sig] = signal.signal(sig, handle)
    except ValueError as exc:
        log.debug("Signals are not caught here: %s", exc)
    log.debug("This event loop has no signal handlers; Ctrl-C and SIGTERM go through signal()")

    def undo() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    return undo

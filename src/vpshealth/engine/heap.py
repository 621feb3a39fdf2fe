"""Keeping the cycle collector's pauses short when many hosts are watched.

Python's full garbage collection walks every container object at once while holding the
event loop: with a thousand hosts (about 300,000 objects) that is a 0.3 s freeze of the loop
the desktop app draws with. And objects that live about one poll interval (each host's latest
result, the scheduler's sleep) survive the young collections and were walked again by every
generation-1 collection until they died: 20,000-30,000 objects, 25-50 ms each time.

So whatever survives a collection is moved out of the collector's sight with ``gc.freeze()``
right after it: the collections that remain only walk what was allocated since the previous
one. Frozen objects are still freed as usual when nothing refers to them; only cycles among
them wait for a full collection, which is logged with what it freed. It runs once a day, or
within the hour once many connections were dropped or hosts removed (the usual source of
such cycles: about 70 objects per dropped connection, measured).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import sys
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter


def glibc() -> ctypes.CDLL | None:
    """The C library on Linux when it is glibc (musl has neither mallopt nor malloc_trim)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas() -> bool:
    """On Linux with glibc, at most ``MALLOC_ARENAS`` malloc arenas: by default every thread
    that allocates (the database writer, the worker threads) gets an arena of its own, and
    memory freed in one is not reused by the others (measured: about 6 MB more resident
    memory with a thousand hosts). Must run before those threads start. Returns whether the
    limit was set."""
    libc = glibc()
    return libc is not None and bool(libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS))


def return_free_memory() -> bool:
    """On Linux with glibc, hands memory that was freed inside the heap back to the system
    (``malloc_trim``): about 3 MB with a thousand hosts, in about 2 ms (measured). Returns
    whether it could ask."""
    libc = glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


CHECK_EVERY = 600.0
"""How often the task looks whether a full collection is due, and returns free memory."""
FULL_COLLECTION_EVERY = 86_400.0
RELEASED_LIMIT = 100
"""Dropped connections and removed hosts after which a full collection comes early..."""
FULL_COLLECTION_GAP = 3_600.0
"""...but not sooner than this after the previous one."""

_released = 0


def note_released(count: int = 1) -> None:
    """Something long-lived that may hold reference cycles was let go (a dropped connection,
    a removed host)."""
    global _released  # noqa: PLW0603 - one counter for the process, like the collector itself
    _released += count


def released() -> int:
    return _released


def freeze() -> None:
    """Collect the young generations (so no fresh garbage is frozen), then freeze the rest."""
    gc.collect(1)
    gc.freeze()


def full_collection() -> int:
    """Everything back in sight, collected, and frozen again. Returns the objects freed."""
    global _released  # noqa: PLW0603
    _released = 0
    started = time.perf_counter()
    gc.unfreeze()
    freed = gc.collect()
    gc.freeze()
    log.info(
        "Full garbage collection: %d objects freed in %.0f ms",
        freed,
        (time.perf_counter() - started) * 1000,
    )
    return freed


def _freeze_survivors(phase: str, info: Mapping[str, int]) -> None:
    """A ``gc.callbacks`` hook: what survived a collection is frozen, so that the next one
    does not walk it again."""
    if phase == "stop":
        gc.freeze()


async def keep_pauses_short() -> None:
    """Runs until cancelled; then everything frozen is put back in the collector's sight."""
    freeze()
    gc.callbacks.append(_freeze_survivors)
    since_full = 0.0
    try:
        while True:
            await asyncio.sleep(CHECK_EVERY)
            since_full += CHECK_EVERY
            early = _released >= RELEASED_LIMIT and since_full >= FULL_COLLECTION_GAP
            if since_full >= FULL_COLLECTION_EVERY or early:
                full_collection()
                since_full = 0.0
            return_free_memory()
    finally:
        gc.callbacks.remove(_freeze_survivors)
        gc.unfreeze()

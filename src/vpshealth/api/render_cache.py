"""Answers about the whole fleet (the host list, /metrics) rendered at most once every few
seconds, however many clients ask: at 1,000 hosts one rendering costs a few hundred ms of
CPU, and the data behind it changes with each poll anyway."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field


@dataclass
class RenderCache:
    """``seconds`` 0: no caching. One request renders an answer again when it is too old; the
    others meanwhile get the previous one (or, before the first, wait for it)."""

    seconds: float = 0.0
    after_render: Callable[[], object] | None = None
    """E.g. handing the memory a rendering used back to the system."""
    _entries: dict[Hashable, tuple[float, bytes]] = field(default_factory=dict)
    _locks: dict[Hashable, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def get(
        self, key: Hashable, render: Callable[[], bytes], *, seconds: float | None = None
    ) -> bytes:
        """``seconds``: this answer's own time to live instead of the cache's."""
        keep = self.seconds if seconds is None or self.seconds <= 0 else seconds
        if keep <= 0:
            return render()
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
            kept = self._entries.get(key)
        if kept is not None and time.monotonic() - kept[0] < keep:
            return kept[1]
        if not lock.acquire(blocking=kept is None):
            assert kept is not None
            return kept[1]  # being rendered again by another request: the last one meanwhile
        try:
            with self._guard:
                kept = self._entries.get(key)
            if kept is not None and time.monotonic() - kept[0] < keep:
                return kept[1]
            body = render()
            with self._guard:
                self._entries[key] = (time.monotonic(), body)
            self._after_render()
            return body
        finally:
            lock.release()

    def _after_render(self) -> None:
        if self.after_render is not None:
            self.after_render()

    def clear(self) -> None:
        """After a change made through the API: its next read shows it."""
        with self._guard:
            self._entries.clear()

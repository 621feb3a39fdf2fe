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
    """``seconds`` 0: no caching. Concurrent requests for the same key wait for one rendering
    instead of each doing it."""

    seconds: float = 0.0
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
        with lock:
            kept = self._entries.get(key)
            now = time.monotonic()
            if kept is not None and now - kept[0] < keep:
                return kept[1]
            body = render()
            self._entries[key] = (time.monotonic(), body)
            return body

    def clear(self) -> None:
        """After a change made through the API: its next read shows it."""
        with self._guard:
            self._entries.clear()

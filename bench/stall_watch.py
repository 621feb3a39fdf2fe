"""What the event loop was running when it stalled: a watchdog thread samples the main
thread's stack whenever one loop callback has run for longer than a threshold.

Used by ``bench/poll_throughput.py --stall-stacks FILE``. Every callback is wrapped to note
when it started (about a microsecond each), so the figures of such a run are a little worse
than those of a plain run.
"""

from __future__ import annotations

import asyncio.events
import gc
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stall:
    at: float  # wall clock when the sample was taken
    ran_ms: float  # how long the callback had been running
    stack: str


@dataclass
class StallWatch:
    threshold: float = 0.05
    every: float = 0.01
    depth: int = 14
    stalls: list[Stall] = field(default_factory=list)
    _current: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _original: Callable[..., Any] | None = None
    collections: list[tuple[float, int, float, int]] = field(default_factory=list)
    """(wall clock, generation, milliseconds, objects freed) of every slow or full GC run."""
    _gc_began: float = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            took = (time.perf_counter() - self._gc_began) * 1000
            self.collections.append((time.time(), info["generation"], took, info["collected"]))

    def start(self) -> None:
        main = threading.main_thread().ident
        original = asyncio.events.Handle._run
        self._original = original
        watch = self

        def _run(handle: asyncio.events.Handle) -> None:
            watch._current = time.perf_counter()
            try:
                original(handle)
            finally:
                watch._current = 0.0

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]
        gc.callbacks.append(self._on_gc)
        threading.Thread(target=self._watch, args=(main,), name="stall watch", daemon=True).start()

    def _watch(self, main: int | None) -> None:
        while not self._stop.wait(self.every):
            began = self._current
            if not began:
                continue
            ran = time.perf_counter() - began
            if ran < self.threshold:
                continue
            frame = sys._current_frames().get(main or 0)
            if frame is None or self._current != began:
                continue
            stack = "".join(traceback.format_stack(frame)[-self.depth :])
            self.stalls.append(Stall(time.time(), ran * 1000, stack))

    def _gc_summary(self, since: float) -> str:
        lines = ["garbage collections after the warm-up (generation: runs, ms p50 / max, freed):"]
        for generation in (0, 1, 2):
            runs = [(ms, n) for t, g, ms, n in self.collections if t >= since and g == generation]
            if not runs:
                continue
            times = sorted(ms for ms, _ in runs)
            freed = sum(n for _, n in runs)
            lines.append(
                f"  gen {generation}: {len(runs)} runs, {times[len(times) // 2]:.1f} / "
                f"{times[-1]:.1f} ms, {freed} objects freed"
            )
        return "\n".join(lines)

    def census(self, top: int = 30) -> str:
        """The most common kinds of object the cycle collector has to walk, by module."""
        kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
        total = sum(kinds.values())
        return f"{total} tracked objects\n" + "\n".join(
            f"{n:8d} {kind}" for kind, n in kinds.most_common(top)
        )

    def stop(self) -> None:
        self._stop.set()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign]

    def report(self, since: float = 0.0, top: int = 8) -> str:
        """The stacks seen most often in stalls after ``since``, with how many samples and
        the longest the callback had run when sampled."""
        stalls = [s for s in self.stalls if s.at >= since]
        counts = Counter(s.stack for s in stalls)
        longest: dict[str, float] = {}
        for s in stalls:
            longest[s.stack] = max(longest.get(s.stack, 0.0), s.ran_ms)
        threshold_ms = self.threshold * 1000
        parts = [
            self._gc_summary(since),
            f"{len(stalls)} samples of callbacks running over {threshold_ms:.0f} ms",
        ]
        for stack, count in counts.most_common(top):
            parts.append(f"\n--- {count} samples, ran up to {longest[stack]:.0f} ms\n{stack}")
        return "\n".join(parts)

"""What the running engine says about itself: for the API's health check and /metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from vpshealth.engine.poll_durations import PollDurations

STALE_FLOOR_SECONDS = 120.0


@dataclass
class EngineStatus:
    """Written by the service on the event loop; read by the API (same loop or a worker
    thread: plain attribute reads)."""

    running: bool = False
    started_at: float | None = None
    last_result_at: float | None = None
    hosts: int = 0
    longest_interval: float = 0.0
    poll_timeout: float = 0.0
    results: int = field(default=0)
    poll_durations: PollDurations = field(default_factory=PollDurations)

    def stale_after(self) -> float:
        """A poll older than this means the checks have stopped."""
        return max(STALE_FLOOR_SECONDS, 3 * self.longest_interval + self.poll_timeout)

    def health(self, now: float) -> tuple[str, float | None]:
        """``ok``, ``starting``, ``stale`` or ``stopped``, and the last poll's age in seconds."""
        age = None if self.last_result_at is None else max(0.0, now - self.last_result_at)
        if not self.running:
            return "stopped", age
        if self.hosts == 0:
            return "ok", age
        if age is None:
            since_start = now - (self.started_at or now)
            return ("starting" if since_start < self.stale_after() else "stale"), age
        return ("ok" if age <= self.stale_after() else "stale"), age

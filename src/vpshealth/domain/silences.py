"""Snoozes and maintenance windows: times when a host's incidents notify nobody."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

WEEK_MINUTES = 7 * 24 * 60
MONDAY_EPOCH_OFFSET = 4 * 24 * 3600  # 1970-01-01 was a Thursday; 1970-01-05 a Monday


class SilenceKind(StrEnum):
    SNOOZE = "snooze"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class Silence:
    """One-off (``starts_at``..``ends_at``, Unix seconds) or weekly (``weekly_start_minute``
    minutes after Monday 00:00 UTC, lasting ``weekly_minutes``). ``host_id`` None: every
    host."""

    id: int
    host_id: int | None
    kind: SilenceKind
    starts_at: int | None = None
    ends_at: int | None = None
    weekly_start_minute: int | None = None
    weekly_minutes: int | None = None
    reason: str = ""

    @property
    def weekly(self) -> bool:
        return self.weekly_start_minute is not None and self.weekly_minutes is not None

    def covers(self, host_id: int, now: float) -> bool:
        if self.host_id is not None and self.host_id != host_id:
            return False
        return self.active(now)

    def active(self, now: float) -> bool:
        if self.weekly:
            assert self.weekly_start_minute is not None
            assert self.weekly_minutes is not None
            minute_of_week = int((now - MONDAY_EPOCH_OFFSET) // 60) % WEEK_MINUTES
            offset = (minute_of_week - self.weekly_start_minute) % WEEK_MINUTES
            return offset < self.weekly_minutes
        starts = self.starts_at if self.starts_at is not None else float("-inf")
        ends = self.ends_at if self.ends_at is not None else float("inf")
        return starts <= now < ends

    def expired(self, now: float) -> bool:
        return not self.weekly and self.ends_at is not None and now >= self.ends_at


def silenced(silences: list[Silence], host_id: int, now: float) -> bool:
    return any(s.covers(host_id, now) for s in silences)

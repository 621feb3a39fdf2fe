"""When the next poll of a host is due. Pure functions of time."""

from __future__ import annotations

import math
from typing import Final

MAX_BACKOFF_SECONDS: Final = 300.0


def backoff_delay(interval: float, failures: int) -> float:
    """The wait after ``failures`` consecutive connection failures: the interval, doubling from
    the second failure, never above five minutes (or the interval, if that is longer)."""
    if failures <= 1:
        return interval
    return float(min(interval * 2 ** (failures - 1), max(interval, MAX_BACKOFF_SECONDS)))


def next_due(previous_due: float, finished_at: float, interval: float, failures: int) -> float:
    """Healthy hosts stay on their grid (previous due + interval), skipping slots a slow poll
    overran instead of bunching up; failing hosts back off from when the poll finished."""
    if failures > 1:
        return finished_at + backoff_delay(interval, failures)
    due = previous_due + interval
    if due < finished_at:
        missed = math.ceil((finished_at - due) / interval)
        due += missed * interval
    return due

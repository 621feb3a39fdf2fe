"""When a snooze chosen in the tray ends. Pure."""

from __future__ import annotations

import datetime as dt

SNOOZE_REASON = "Snoozed from the desktop app"


def tomorrow_morning(now: float, hour: int = 8) -> int:
    """The next ``hour`` o'clock local time after ``now`` (tomorrow's, when it has passed)."""
    local = dt.datetime.fromtimestamp(now).astimezone()
    target = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= local:
        target += dt.timedelta(days=1)
    return int(target.timestamp())

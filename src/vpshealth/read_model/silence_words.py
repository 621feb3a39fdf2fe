"""When a snooze or maintenance window is in force, in words, in a given time zone."""

from __future__ import annotations

from datetime import datetime, tzinfo

from vpshealth.domain import humanize
from vpshealth.domain.silences import WEEK_MINUTES, Silence

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def when_text(silence: Silence, tz: tzinfo | None = None) -> str:
    """E.g. ``every Sun 03:00 for 2h`` or ``2027-01-15 08:00 to 2027-01-15 10:00 UTC``;
    ``tz`` None: this computer's time zone."""
    if silence.weekly:
        assert silence.weekly_start_minute is not None
        assert silence.weekly_minutes is not None
        offset = datetime.now(tz).astimezone(tz).utcoffset()
        offset_minutes = int(offset.total_seconds() // 60) if offset else 0
        local = (silence.weekly_start_minute + offset_minutes) % WEEK_MINUTES
        day, minute = divmod(local, 1440)
        return (
            f"every {DAYS[day].capitalize()} {minute // 60:02d}:{minute % 60:02d} for "
            f"{humanize.duration(silence.weekly_minutes * 60, compact=True)}"
        )
    start = datetime.fromtimestamp(silence.starts_at or 0).astimezone(tz)
    end = datetime.fromtimestamp(silence.ends_at or 0).astimezone(tz)
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M %Z}"

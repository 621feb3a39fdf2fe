"""Snooze and maintenance window times as people type them ("2h", "2026-12-01 02:00",
"sun 03:00"; local time), and how a window reads back. Pure, but for the local time zone."""

from __future__ import annotations

import re
from datetime import datetime

from vpshealth.domain.humanize import parse_duration
from vpshealth.domain.silences import WEEK_MINUTES, Silence
from vpshealth.operations.errors import FieldError
from vpshealth.read_model.silence_words import DAYS, when_text

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def duration_seconds(text: str | int, field: str) -> int:
    """A duration like 90m or 2h (or whole seconds) longer than 0."""
    if isinstance(text, int):
        seconds = text
    else:
        try:
            seconds = parse_duration(text)
        except ValueError:
            raise FieldError(
                field,
                "use a number with m, h, d or w, e.g. 90m or 2h",
                wording="invalid {label} " + repr(text) + ": use a number "
                "with m, h, d or w, e.g. 90m or 2h",
            ) from None
    if seconds <= 0:
        raise FieldError(field, "must be longer than 0", wording="{label} must be longer than 0")
    return seconds


def start_time(text: str | int, now: int, field: str = "start") -> int:
    """'YYYY-MM-DD HH:MM' local time, 'now', or Unix seconds."""
    if isinstance(text, int):
        return text
    if text.strip().lower() == "now":
        return now
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(text.strip(), pattern).astimezone().timestamp())
        except ValueError:
            continue
    raise FieldError(
        field,
        "use 'YYYY-MM-DD HH:MM' (local time) or 'now'",
        wording="invalid {label} " + repr(text) + ": use 'YYYY-MM-DD HH:MM' (local time) or 'now'",
    )


def weekly_minute(text: str, field: str = "weekly") -> int:
    """'sun 03:00' in local time, as minutes after Monday 00:00 UTC."""
    parts = text.strip().lower().split()
    match = _CLOCK.match(parts[1]) if len(parts) == 2 else None
    if match is None or parts[0][:3] not in DAYS:
        raise FieldError(
            field,
            "use 'DAY HH:MM' (local time), e.g. 'sun 03:00'",
            wording="invalid {label} " + repr(text) + ": use 'DAY HH:MM' (local time), e.g. "
            "'sun 03:00'",
        )
    local_minute = DAYS.index(parts[0][:3]) * 1440 + int(match[1]) * 60 + int(match[2])
    return (local_minute - utc_offset_minutes()) % WEEK_MINUTES


def utc_offset_minutes() -> int:
    offset = datetime.now().astimezone().utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def window_text(silence: Silence) -> str:
    """When a window is, in this computer's local time."""
    return when_text(silence)

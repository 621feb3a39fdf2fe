"""Times and sizes as a person reads them ("2 h ago", "1 h 30 min", "1.5 GiB"), for every face.
Pure: the caller passes the current time."""

from __future__ import annotations

import re

_DAY, _HOUR, _MINUTE = 86_400, 3600, 60
_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def ago(ts: float | None, now: float) -> str:
    """One unit, the larger one from one and a half of it: "75 s ago", "2 min ago",
    "47 h ago", "3 d ago"; "never" without a time, "just now" for one in the future."""
    if ts is None:
        return "never"
    seconds = int(now - ts)
    if seconds < 0:
        return "just now"
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * _MINUTE:
        return f"{seconds // _MINUTE} min ago"
    if seconds < 48 * _HOUR:
        return f"{seconds // _HOUR} h ago"
    return f"{seconds // _DAY} d ago"


def duration(seconds: float, *, compact: bool = False) -> str:
    """The two largest units: "45 s", "10 min", "1 h 30 min", "2 d 3 h"; ``compact`` for
    narrow columns: "45s", "10m", "1h 30m", "2d 3h"."""
    s = max(0, int(seconds))
    minute, space = ("m", "") if compact else ("min", " ")
    days, rest = divmod(s, _DAY)
    hours, rest = divmod(rest, _HOUR)
    minutes = rest // _MINUTE
    if days:
        return f"{days}{space}d {hours}{space}h"
    if hours:
        return f"{hours}{space}h {minutes}{space}{minute}"
    if minutes:
        return f"{minutes}{space}{minute}"
    return f"{s}{space}s"


def human_bytes(value: float) -> str:
    """Binary units with one decimal ("1.5 GiB"); whole bytes below 1 KiB."""
    size = float(value)
    for unit in _BYTE_UNITS:
        if abs(size) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """'90s', '15m', '24h', '7d', '2w', or combinations like '1h30m', as seconds. Raises
    ValueError."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)

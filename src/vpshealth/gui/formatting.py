"""Numbers and times as a person reads them."""

from __future__ import annotations

import datetime as dt
import time


def ago(ts: int | None, now: float | None = None) -> str:
    if ts is None:
        return "never"
    seconds = int((time.time() if now is None else now) - ts)
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"
    return f"{seconds // 86400} d ago"


def duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def local_time(ts: int | None) -> str:
    if ts is None:
        return "—"
    when = dt.datetime.fromtimestamp(ts).astimezone()
    today = dt.datetime.now().astimezone().date()
    if when.date() == today:
        return when.strftime("%H:%M:%S")
    return when.strftime("%Y-%m-%d %H:%M")


def human_bytes(value: float | None) -> str:
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(amount) < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"

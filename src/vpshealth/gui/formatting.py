"""Numbers and times as a person reads them."""

from __future__ import annotations

import datetime as dt
import time

from vpshealth.domain import humanize


def ago(ts: int | None, now: float | None = None) -> str:
    return humanize.ago(ts, time.time() if now is None else now)


def duration(seconds: float) -> str:
    return humanize.duration(seconds)


def local_time(ts: int | None) -> str:
    if ts is None:
        return "—"
    when = dt.datetime.fromtimestamp(ts).astimezone()
    today = dt.datetime.now().astimezone().date()
    if when.date() == today:
        return when.strftime("%H:%M:%S")
    return when.strftime("%Y-%m-%d %H:%M")


def human_bytes(value: float | None) -> str:
    return "—" if value is None else humanize.human_bytes(value)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"

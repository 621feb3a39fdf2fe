"""Plain-text tables, sizes and times for the terminal."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from vpshealth.domain import humanize
from vpshealth.errors import InputError
from vpshealth.read_model import json_shapes

iso_time = json_shapes.iso_time


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def human_bytes(value: float) -> str:
    return humanize.human_bytes(value)


def ago(ts: float | None, now: float | None = None) -> str:
    return humanize.ago(ts, time.time() if now is None else now)


def duration(seconds: float) -> str:
    return humanize.duration(seconds, compact=True)


STALE_COPY_SECONDS = 120
"""A node's copy older than this gets a line on stderr from the read commands."""


def stale_copy_line(node: str, synced_at: float | None, now: float) -> str | None:
    """The line read commands print when they show an old copy of the node ``node``."""
    if synced_at is not None and now - synced_at <= STALE_COPY_SECONDS:
        return None
    when = "never synced yet" if synced_at is None else f"last synced {ago(synced_at, now)}"
    return f"Offline copy of node {node}, {when} (vpshealth node sync)"


def parse_duration(text: str) -> int:
    """'90s', '15m', '24h', '7d', '2w', or combinations like '1h30m', as seconds."""
    try:
        return humanize.parse_duration(text)
    except ValueError:
        raise InputError(
            f"invalid --since {text!r}: use a number with s, m, h, d or w, e.g. 30m or 7d"
        ) from None

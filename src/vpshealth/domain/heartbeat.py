"""The dead man's switch the node pings (see engine/heartbeat.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HeartbeatTarget:
    url: str
    every: int
    """Seconds between two pings."""
    masked: str
    """The URL as it may be shown in a log."""

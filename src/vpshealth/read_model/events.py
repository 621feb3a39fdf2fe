"""The log of host state changes and container incidents, with host names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    at: int
    host_id: int
    host_name: str | None
    """None when the host was removed since."""
    kind: str
    """``state_change``, ``incident_opened`` or ``incident_resolved``."""
    old_state: str | None
    new_state: str | None
    problem: str | None
    message: str
    id: int = 0
    """Its place in the log: later events have higher ids."""

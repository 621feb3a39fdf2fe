"""What the tray shows for the fleet: the worst state as an icon kind, and a tooltip. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from vpshealth.domain.health import HostState
from vpshealth.store.host_repository import HostRecord


class TrayKind(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"
    PAUSED = "paused"


_KIND_OF_STATE = {
    HostState.OK: TrayKind.OK,
    HostState.WARNING: TrayKind.WARNING,
    HostState.CRITICAL: TrayKind.CRITICAL,
    HostState.UNREACHABLE: TrayKind.UNREACHABLE,
    HostState.UNKNOWN: TrayKind.UNKNOWN,
}

STATE_LABELS = {
    HostState.OK: "OK",
    HostState.WARNING: "Warning",
    HostState.CRITICAL: "Critical",
    HostState.UNREACHABLE: "Unreachable",
    HostState.UNKNOWN: "Not checked yet",
}

_COUNT_ORDER = (
    HostState.CRITICAL,
    HostState.UNREACHABLE,
    HostState.WARNING,
    HostState.UNKNOWN,
    HostState.OK,
)


@dataclass(frozen=True, slots=True)
class TrayState:
    kind: TrayKind
    tooltip: str


def state_of(record: HostRecord) -> HostState:
    return record.status.state if record.status is not None else HostState.UNKNOWN


def tray_state(records: Sequence[HostRecord], *, paused: bool = False) -> TrayState:
    """The worst state of the enabled hosts; paused checks win over everything, since then
    the states shown are not current."""
    watched = [r for r in records if r.host.enabled]
    counts = Counter(state_of(r) for r in watched)
    parts = [f"{counts[s]} {STATE_LABELS[s].lower()}" for s in _COUNT_ORDER if counts[s]]
    lines = ["VPS Health"]
    if paused:
        lines.append("Checks are paused")
    if not watched:
        lines.append("No servers are being watched")
        return TrayState(TrayKind.PAUSED if paused else TrayKind.UNKNOWN, "\n".join(lines))
    lines.append(", ".join(parts))
    worst = max(watched, key=lambda r: (state_of(r).severity, r.host.name))
    worst_state = state_of(worst)
    if worst_state not in (HostState.OK, HostState.UNKNOWN) and worst.status is not None:
        lines.append(f"Worst: {worst.host.name} — {worst.status.message}")
    if paused:
        return TrayState(TrayKind.PAUSED, "\n".join(lines))
    return TrayState(_KIND_OF_STATE[worst_state], "\n".join(lines))

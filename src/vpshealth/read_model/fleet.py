"""The fleet overview: every host with its last state, container and incident counts, the
every-host snooze and the desktop's minimum severity."""

from __future__ import annotations

from dataclasses import dataclass, field

from vpshealth.domain.containers import Severity
from vpshealth.domain.health import HostState
from vpshealth.store.docker_repository import ContainerCounts
from vpshealth.store.host_repository import HostRecord


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    records: tuple[HostRecord, ...]
    containers: dict[int, ContainerCounts] = field(default_factory=dict)
    open_incidents: dict[int, int] = field(default_factory=dict)
    snoozed_until: int | None = None
    desktop_min_severity: Severity = Severity.WARNING

    def record(self, host_id: int) -> HostRecord | None:
        return next((r for r in self.records if r.id == host_id), None)

    def states(self) -> dict[int, HostState]:
        return {r.id: r.status.state for r in self.records if r.status is not None}

"""What a Prometheus scrape reads: every host with its last state and metrics, its containers
by state and the open incidents by severity, in three queries whatever the fleet's size."""

from __future__ import annotations

from dataclasses import dataclass, field

from vpshealth.domain.containers import ContainerState
from vpshealth.store.host_repository import HostRecord


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    records: tuple[HostRecord, ...]
    containers: dict[int, dict[ContainerState, int]] = field(default_factory=dict)
    """Per host id; hosts without Docker (or not checked yet) are missing."""
    open_incidents: dict[str, int] = field(default_factory=dict)
    """By severity."""

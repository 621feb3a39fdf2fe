"""One read model for every face: the GUI, the CLI and, later, the API read through it.
Blocking: run in a worker thread."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row

from vpshealth.domain.notifications import Notification
from vpshealth.read_model.events import Event
from vpshealth.read_model.fleet import FleetSnapshot
from vpshealth.read_model.metrics_snapshot import MetricsSnapshot
from vpshealth.store.docker_repository import DockerRepository, StoredContainer
from vpshealth.store.event_log import EventLog
from vpshealth.store.host_repository import HostRecord, HostRepository
from vpshealth.store.incident_repository import IncidentRecord, IncidentRepository
from vpshealth.store.notification_feed import NotificationFeed
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.store.silence_repository import SilenceRepository


@dataclass(frozen=True, slots=True)
class HostDetail:
    """One host's page: its record, its containers as of the last check and what happened."""

    record: HostRecord
    containers: list[StoredContainer]
    events: list[Event]


@dataclass(frozen=True, slots=True)
class ReadModel:
    hosts: HostRepository
    docker: DockerRepository
    incident_repository: IncidentRepository
    silences: SilenceRepository
    settings: SettingsRepository
    event_log: EventLog
    notification_feed: NotificationFeed

    def fleet(self, now: int) -> FleetSnapshot:
        return FleetSnapshot(
            tuple(self.hosts.list()),
            self.docker.counts(),
            self.incident_repository.open_counts(),
            self.silences.snoozed_until(now),
            self.settings.desktop_min_severity(),
        )

    def host_detail(self, record: HostRecord, events_since: int) -> HostDetail:
        return HostDetail(
            record,
            self.docker.containers_of(record.id),
            self.events(events_since, record.id, names={record.id: record.host.name}),
        )

    def incidents(
        self, *, open_only: bool = False, host_id: int | None = None, limit: int = 200
    ) -> list[IncidentRecord]:
        """Newest first: open ones, or open and recent ones."""
        return self.incident_repository.list(open_only=open_only, host_id=host_id, limit=limit)

    def events(
        self, since: int, host_id: int | None = None, *, names: Mapping[int, str] | None = None
    ) -> list[Event]:
        """Oldest first, from ``since`` on; one host's or every host's."""
        if names is None:
            names = self.hosts.names()
        return [_event(row, names) for row in self.event_log.since(since, host_id)]

    def events_after(self, after_id: int, limit: int, host_id: int | None = None) -> list[Event]:
        """Up to ``limit`` events recorded after the one with id ``after_id``, oldest first."""
        rows = self.event_log.after(after_id, limit, host_id)
        names = self.hosts.names() if rows else {}
        return [_event(row, names) for row in rows]

    def incident(self, incident_id: int) -> IncidentRecord | None:
        return self.incident_repository.get(incident_id)

    def incident_page(
        self, *, open_only: bool, host_id: int | None, before: int | None, limit: int
    ) -> list[IncidentRecord]:
        """Newest recorded first, those recorded before incident ``before``."""
        return self.incident_repository.page(
            open_only=open_only, host_id=host_id, before=before, limit=limit
        )

    def last_notification_id(self) -> int:
        return self.notification_feed.last_id()

    def notifications_after(self, after_id: int, limit: int = 50) -> tuple[int, list[Notification]]:
        """Notifications the alerting stored since ``after_id`` (another process's, when the
        background service runs the checks), and the id to continue from."""
        return self.notification_feed.after(after_id, limit)

    def metrics_snapshot(self) -> MetricsSnapshot:
        return MetricsSnapshot(
            tuple(self.hosts.list()),
            self.docker.state_counts(),
            self.incident_repository.open_counts_by_severity(),
        )


def _event(row: Row[Any], names: Mapping[int, str]) -> Event:
    return Event(
        at=row.at,
        host_id=row.host_id,
        host_name=names.get(row.host_id),
        kind=row.kind,
        old_state=row.old_state,
        new_state=row.new_state,
        problem=row.problem,
        message=row.message,
        id=row.id,
    )

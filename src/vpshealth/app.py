"""Builds the core from settings and paths. The one place that wires dependencies."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import Engine

from vpshealth.clock import Clock, SystemClock
from vpshealth.collectors.docker_collector import DockerCollector
from vpshealth.collectors.docker_http import Opener
from vpshealth.collectors.ssh import SshOptions
from vpshealth.config import Paths, Settings
from vpshealth.domain.container_incidents import IncidentTracker
from vpshealth.domain.health import Thresholds
from vpshealth.domain.hosts import Host
from vpshealth.engine.credentials import CredentialsProvider
from vpshealth.engine.docker_monitor import DockerMonitor, IncidentSink
from vpshealth.engine.poller import DockerWatch, LocalPoller, Poller, SshPoller
from vpshealth.read_model.reader import ReadModel
from vpshealth.secrets import SecretStore
from vpshealth.store.database import open_database
from vpshealth.store.docker_repository import DockerRepository
from vpshealth.store.event_log import EventLog
from vpshealth.store.history import HistoryReader
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.incident_repository import IncidentRepository
from vpshealth.store.maintenance import Retention
from vpshealth.store.notification_feed import NotificationFeed
from vpshealth.store.results_writer import ResultsWriter
from vpshealth.store.rule_repository import RuleRepository
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.store.silence_repository import SilenceRepository


@dataclass
class Core:
    settings: Settings
    paths: Paths
    engine: Engine
    secrets: SecretStore
    clock: Clock = field(default_factory=SystemClock)
    thresholds: Thresholds = field(default_factory=Thresholds)

    @functools.cached_property
    def hosts(self) -> HostRepository:
        """One repository for the process: it remembers the host rows it has validated."""
        return HostRepository(self.engine)

    @property
    def docker(self) -> DockerRepository:
        return DockerRepository(self.engine)

    @property
    def event_log(self) -> EventLog:
        return EventLog(self.engine)

    @property
    def incidents(self) -> IncidentRepository:
        return IncidentRepository(self.engine)

    @property
    def silences(self) -> SilenceRepository:
        return SilenceRepository(self.engine)

    @property
    def rules(self) -> RuleRepository:
        return RuleRepository(self.engine)

    @property
    def stored_settings(self) -> SettingsRepository:
        """The settings kept in the database (``settings`` are those of the environment)."""
        return SettingsRepository(self.engine)

    @property
    def read_model(self) -> ReadModel:
        return ReadModel(
            self.hosts,
            self.docker,
            self.incidents,
            self.silences,
            self.stored_settings,
            self.event_log,
            NotificationFeed(self.engine),
        )

    @property
    def history(self) -> HistoryReader:
        return HistoryReader(self.engine, Retention.from_settings(self.settings))

    def results_writer(self, *, record_incidents: bool = True) -> ResultsWriter:
        return ResultsWriter(self.engine, record_incidents=record_incidents)

    @property
    def rule_base(self) -> dict[str, float]:
        """The alert levels the environment sets (``VPSHEALTH_WARNING_PERCENT`` ...); stored
        rules override them."""
        s = self.settings
        return {
            f"{metric}.{level}": value
            for metric in ("cpu", "memory", "disk")
            for level, value in (("warning", s.warning_percent), ("critical", s.critical_percent))
        }

    @property
    def ssh_options(self) -> SshOptions:
        s = self.settings
        return SshOptions(
            connect_timeout=s.connect_timeout,
            command_timeout=s.command_timeout,
            keepalive_interval=s.keepalive_interval,
            max_channels=s.max_channels_per_host,
        )

    @property
    def poll_timeout(self) -> float:
        return self.settings.connect_timeout + 2 * self.settings.command_timeout + 5

    def make_poller(
        self, host_id: int, host: Host, on_incidents: IncidentSink | None = None
    ) -> Poller:
        """``on_incidents`` receives container incidents found between polls, from the
        Docker events stream; without it (one-off checks) the stream is not followed."""
        settings = self.settings

        def docker_factory(opener: Opener) -> DockerWatch:
            monitor = DockerMonitor(
                host.name,
                DockerCollector(opener, timeout=settings.command_timeout),
                self.clock,
                on_incidents=on_incidents,
                follow_events=on_incidents is not None,
                tracker=IncidentTracker(settings.restart_loop_count, settings.restart_loop_minutes),
            )
            return DockerWatch(monitor, functools.partial(self.docker.memory, host_id))

        if host.is_local:
            return LocalPoller(host, self.clock, self.thresholds, docker_factory=docker_factory)
        return SshPoller(
            host,
            self.clock,
            self.thresholds,
            CredentialsProvider(self.secrets),
            self.ssh_options,
            docker_factory=docker_factory,
        )

    def close(self) -> None:
        self.engine.dispose()


def build_core(settings: Settings | None = None, secrets: SecretStore | None = None) -> Core:
    settings = settings or Settings()
    paths = Paths.from_settings(settings)
    paths.ensure()
    engine = open_database(paths.database, backup_dir=paths.backup_dir)
    thresholds = Thresholds(settings.warning_percent, settings.critical_percent)
    return Core(settings, paths, engine, secrets or SecretStore(), thresholds=thresholds)

"""Builds the core from settings and paths. The one place that wires dependencies."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from vpshealth.alerts.channels import build_channel_supervisor, build_delivery_workers
from vpshealth.clock import Clock, SystemClock
from vpshealth.collectors.docker_collector import DockerCollector
from vpshealth.collectors.docker_http import Opener
from vpshealth.collectors.ssh import SshOptions
from vpshealth.config import Paths, Settings, go_engine_path
from vpshealth.domain.alert_rules import RuleBook
from vpshealth.domain.container_incidents import IncidentTracker
from vpshealth.domain.health import CheckResult
from vpshealth.domain.hosts import Host
from vpshealth.domain.listen_address import ListenAddress
from vpshealth.domain.metric_catalog import PERCENT_LEVELLED
from vpshealth.domain.notifications import Notifier
from vpshealth.engine import heap
from vpshealth.engine.alert_manager import AlertManager
from vpshealth.engine.credentials import CredentialSource, CredentialsProvider
from vpshealth.engine.docker_monitor import (
    ABSENT_RECHECK_POLLS,
    DockerMonitor,
    IncidentSink,
    ListingSource,
)
from vpshealth.engine.go_docker import GoDockerCollector
from vpshealth.engine.go_engine import GoEngine, Observer
from vpshealth.engine.go_protocol import Message, StartOptions
from vpshealth.engine.go_supervisor import GoSupervisor
from vpshealth.engine.heartbeat import Heartbeat
from vpshealth.engine.hetzner_opinion import SecondOpinion
from vpshealth.engine.history_upkeep import HistoryUpkeep
from vpshealth.engine.live_hub import LiveHub
from vpshealth.engine.loop_lag import LoopLagMonitor
from vpshealth.engine.poller import DockerWatch, LocalPoller, Poller, RuleSource, SshPoller
from vpshealth.engine.recorder import Recorder
from vpshealth.engine.scheduler import ResultSink, Scheduler
from vpshealth.engine.service import (
    CheckEngine,
    EngineFactory,
    HostHooks,
    Pacing,
    Service,
    Worker,
    check_once,
)
from vpshealth.engine.status import EngineStatus
from vpshealth.engine.takeover import TakeoverChecks
from vpshealth.errors import ConfigurationError
from vpshealth.operations.api_tokens import ApiTokens
from vpshealth.operations.bundle import Operations
from vpshealth.operations.channels import ChannelOperations
from vpshealth.operations.email_settings import EmailSettingsOperations
from vpshealth.operations.heartbeat import HeartbeatOperations
from vpshealth.operations.hetzner import HetznerOperations
from vpshealth.operations.hosts import HostOperations
from vpshealth.operations.incidents import IncidentOperations
from vpshealth.operations.node_link import NodeLinkOperations
from vpshealth.operations.rules import RuleOperations
from vpshealth.operations.silences import SilenceOperations
from vpshealth.read_model.reader import ReadModel
from vpshealth.secrets import SecretStore
from vpshealth.secrets.choice import chosen_secret_store
from vpshealth.secrets.secret_folder import read_secret_file
from vpshealth.store.api_token_repository import ApiTokenRepository
from vpshealth.store.channel_repository import ChannelRepository
from vpshealth.store.database import open_database, open_reader
from vpshealth.store.sync_source import SyncSource

if TYPE_CHECKING:
    from vpshealth.api.context import ApiContext
    from vpshealth.api.server import ApiServer
from vpshealth.store.docker_repository import DockerRepository
from vpshealth.store.event_log import EventLog
from vpshealth.store.handback import apply_handback
from vpshealth.store.hetzner_repository import HetznerRepository
from vpshealth.store.history import HistoryReader
from vpshealth.store.host_repository import HostRecord, HostRepository
from vpshealth.store.incident_repository import IncidentRepository
from vpshealth.store.live_log import LiveLog, append_change
from vpshealth.store.maintenance import Retention
from vpshealth.store.notification_feed import NotificationFeed
from vpshealth.store.results_writer import ResultsWriter
from vpshealth.store.rule_repository import RuleRepository
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.store.silence_repository import SilenceRepository
from vpshealth.sync.node_link import NodeLink, NodeLinkStore
from vpshealth.sync.replica import open_copy
from vpshealth.sync.tunnel import SessionOptions

FLEET_ANSWER_SECONDS = 5.0
"""The API renders its host list and /metrics at most this often (see api/render_cache.py)."""


@dataclass
class Core:
    settings: Settings
    paths: Paths
    engine: Engine
    secrets: SecretStore
    clock: Clock = field(default_factory=SystemClock)

    @functools.cached_property
    def hosts(self) -> HostRepository:
        """One repository for the process: it remembers the host rows it has validated."""
        return HostRepository(self.engine)

    @functools.cached_property
    def operations(self) -> Operations:
        """The use cases every face calls; linked to a node, its edits go to the node."""
        local = self._local_operations
        return local if local.node.current() is None else node_operations(self, local)

    @functools.cached_property
    def _local_operations(self) -> Operations:
        hosts = HostOperations(self.hosts, self.secrets, self.settings.connect_timeout)
        return Operations(
            hosts=hosts,
            rules=RuleOperations(self.rules, hosts, self.rule_base, self.clock),
            incidents=IncidentOperations(self.incidents, self.clock),
            silences=SilenceOperations(self.silences, hosts, self.clock),
            email=EmailSettingsOperations(
                self.stored_settings, self.secrets, self.settings, self.clock
            ),
            channels=ChannelOperations(ChannelRepository(self.engine), self.secrets, self.clock),
            hetzner=HetznerOperations(
                HetznerRepository(self.engine), self.hosts, hosts, self.secrets
            ),
            node=node_link_operations(self),
        )

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

    @functools.cached_property
    def reads(self) -> ReadSide:
        """What the faces show: the copy of the linked node (``node.*`` settings), else this
        computer's own database. Chosen once; ``choose_reads_again`` after a link changes."""
        link = self.operations.node.current()
        if link is None:
            return ReadSide(self.engine, self.hosts, Retention.from_settings(self.settings))
        return ReadSide(
            open_copy(self.paths),
            None,
            Retention.from_settings(self.settings),
            node=link,
            synced_at=self.operations.node.sync_state().last_synced_at,
        )

    def choose_reads_again(self) -> None:
        """After a link changes: the reads, and where the edits go (``operations``)."""
        self.__dict__.pop("operations", None)
        reads = self.__dict__.pop("reads", None)
        if reads is not None and reads.engine is not self.engine:
            reads.engine.dispose()

    @property
    def read_model(self) -> ReadModel:
        return self.reads.read_model

    @property
    def api_tokens(self) -> ApiTokens:
        return ApiTokens(ApiTokenRepository(self.engine), self.clock)

    @property
    def history(self) -> HistoryReader:
        return self.reads.history

    def results_writer(self, *, record_incidents: bool = True) -> ResultsWriter:
        return ResultsWriter(self.engine, record_incidents=record_incidents)

    @property
    def rule_base(self) -> dict[str, float]:
        """The percent levels the environment sets (``VPSHEALTH_WARNING_PERCENT`` ...); stored
        rules override them."""
        s = self.settings
        return {
            metric.rule(level): value
            for metric in PERCENT_LEVELLED
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
    def pacing(self) -> Pacing:
        s = self.settings
        return Pacing(s.max_concurrent_polls, s.connect_timeout + 2 * s.command_timeout + 5)

    def rule_book(self) -> RuleBook:
        """Every host's rules as stored now, over the environment's levels."""
        return self.rules.rule_book(self.rule_base)

    def docker_watch(
        self,
        host_id: int | None,
        host: Host,
        rules: RuleSource,
        on_incidents: IncidentSink | None,
        collector: ListingSource,
        *,
        absent_recheck_polls: int = ABSENT_RECHECK_POLLS,
    ) -> DockerWatch:
        """A host's Docker monitor over ``collector``, continuing from what the database
        remembers of its containers (nothing when ``host_id`` is None)."""
        settings = self.settings
        monitor = DockerMonitor(
            host.name,
            collector,
            self.clock,
            on_incidents=on_incidents,
            follow_events=on_incidents is not None,
            tracker=IncidentTracker(settings.restart_loop_count, settings.restart_loop_minutes),
            logs_wanted=lambda: bool(rules()["containers.logs"]),
            absent_recheck_polls=absent_recheck_polls,
        )
        memory = None if host_id is None else functools.partial(self.docker.memory, host_id)
        return DockerWatch(monitor, memory)

    def make_poller(
        self,
        host_id: int | None,
        host: Host,
        rules: RuleSource,
        on_incidents: IncidentSink | None = None,
        credentials: CredentialSource | None = None,
    ) -> Poller:
        """``on_incidents`` receives container incidents found between polls, from the
        Docker events stream; without it (one-off checks) the stream is not followed.
        ``host_id`` None: a host not saved yet (a test from the editor), with nothing
        remembered of its containers. ``credentials``: other than the keyring's."""

        def docker_factory(opener: Opener) -> DockerWatch:
            collector = DockerCollector(opener, timeout=self.settings.command_timeout)
            return self.docker_watch(host_id, host, rules, on_incidents, collector)

        if host.is_local:
            return LocalPoller(host, self.clock, rules, docker_factory=docker_factory)
        return SshPoller(
            host,
            self.clock,
            rules,
            credentials or CredentialsProvider(self.secrets),
            self.ssh_options,
            docker_factory=docker_factory,
        )

    def go_engine_program(self) -> Path:
        """The Go check engine's program; raises ConfigurationError when it is not there."""
        program = go_engine_path(self.settings)
        if not program.is_file() or not os.access(program, os.X_OK):
            raise ConfigurationError(
                f"VPSHEALTH_ENGINE=go, but the Go check engine {program} is missing or not "
                "executable: build it with `scripts/build-go-engine` or set "
                "VPSHEALTH_GO_ENGINE_PATH"
            )
        return program

    def engine_factory(self, observer: Observer | None = None) -> EngineFactory | None:
        """The service's check engine as the settings choose: None for the Python one."""
        if self.settings.engine != "go":
            return None
        program = self.go_engine_program()
        s = self.settings
        options = StartOptions(
            max_concurrency=s.max_concurrent_polls,
            poll_timeout=self.pacing.poll_timeout,
            connect_timeout=s.connect_timeout,
            command_timeout=s.command_timeout,
            keepalive_interval=s.keepalive_interval,
            max_channels=s.max_channels_per_host,
        )

        def build(
            make_poller: Callable[[int, Host], Poller],
            hooks: Callable[[int, Host], HostHooks],
            sink: ResultSink,
        ) -> CheckEngine:
            local = Scheduler(
                make_poller,
                sink,
                self.clock,
                max_concurrency=options.max_concurrency,
                poll_timeout=options.poll_timeout,
            )

            def supervise(
                on_message: Callable[[Message], None], on_exit: Callable[[], None]
            ) -> GoSupervisor:
                return GoSupervisor(program, options, on_message, on_exit)

            def docker_watch(
                host_id: int, host: Host, hooks: HostHooks, collector: GoDockerCollector
            ) -> DockerWatch:
                return self.docker_watch(
                    host_id, host, hooks.rules, hooks.on_incidents, collector,
                    absent_recheck_polls=0,
                )  # fmt: skip

            return GoEngine(
                supervise,
                local,
                hooks,
                sink,
                credentials=CredentialsProvider(self.secrets),
                docker_watch=docker_watch,
                observer=observer,
            )

        return build

    async def check_once(self, records: Sequence[HostRecord]) -> list[CheckResult]:
        """Poll the given hosts once with the rules as stored now, and store the results; a
        failed imported Hetzner Cloud server is explained by its API first."""
        rules = await asyncio.to_thread(self.rule_book)
        recorder = Recorder(self.results_writer())
        opinion = SecondOpinion(HetznerRepository(self.engine), self.secrets, self.clock)
        return await check_once(
            records,
            make_poller=self.make_poller,
            rules=rules,
            recorder=recorder,
            clock=self.clock,
            pacing=self.pacing,
            explain=opinion.explain,
        )

    def build_service(
        self,
        notifiers: Sequence[Notifier] = (),
        api: ListenAddress | None = None,
        *,
        catch_stop_signals: bool = True,
    ) -> Service:
        """The service and its parts. ``notifiers`` show notifications right away (the
        desktop's), besides the log. With ``api``, the service serves the HTTP API there; its
        port is bound here, so that a port in use stops the service before it starts."""
        engine = self.engine_factory()  # a missing Go engine stops it before anything starts
        rules = RuleBook(self.rule_base)
        live_log = LiveLog(self.engine)
        live = LiveHub(last_seq=live_log.last_seq(), missed=live_log.between)
        recorder = Recorder(self.results_writer(record_incidents=False), live)
        alerts = AlertManager(
            self.engine,
            self.clock,
            recorder.run_in_writer,
            notifiers,
            rules,
            live=live,
            stall_hold=self.settings.node_stall_hold_seconds if api is not None else 0.0,
        )
        retention = Retention.from_settings(self.settings)
        upkeep = HistoryUpkeep(self.engine, retention, self.clock, recorder.run_in_writer)
        deliveries = build_delivery_workers(self.engine, self.settings, self.secrets, self.clock)
        workers: list[tuple[str, Worker]] = [("history upkeep", upkeep)]
        workers += [(f"{w.name} delivery", w) for w in deliveries]
        workers.append(
            ("alert channels", build_channel_supervisor(self.engine, self.secrets, self.clock))
        )
        opinion = SecondOpinion(HetznerRepository(self.engine), self.secrets, self.clock)
        workers.append(("Hetzner Cloud second opinion", opinion))
        workers.append(("heartbeat", Heartbeat(heartbeat_operations(self).target, self.clock)))
        status = EngineStatus(poll_timeout=self.pacing.poll_timeout)
        if api is not None:
            loop_lag = LoopLagMonitor()
            workers.append(("loop lag", loop_lag))
            workers.append(("API", self._api_server(api, status, loop_lag, live)))
        return Service(
            hosts=self.hosts.enabled_hosts,
            make_poller=self.make_poller,
            rules=rules,
            recorder=recorder,
            alerts=alerts,
            workers=workers,
            clock=self.clock,
            pacing=self.pacing,
            status=status,
            annotate=opinion.annotate,
            catch_stop_signals=catch_stop_signals,
            engine=engine,
        )

    def _api_server(
        self, address: ListenAddress, status: EngineStatus, loop_lag: LoopLagMonitor, live: LiveHub
    ) -> ApiServer:
        # FastAPI and uvicorn load only when the API is served (about 0.3 s at start-up).
        from vpshealth.api.app import create_app  # noqa: PLC0415
        from vpshealth.api.server import ApiServer  # noqa: PLC0415

        server = ApiServer(create_app(self.api_context(status, loop_lag, live=live)), address)
        server.open()
        return server

    def api_context(
        self,
        status: EngineStatus,
        loop_lag: LoopLagMonitor | None = None,
        *,
        live: LiveHub | None = None,
    ) -> ApiContext:
        """What the API's routes are given; its reads go through their own connections.
        ``live``: the service's live hub (without it, no live stream)."""
        from vpshealth.api.context import ApiContext  # noqa: PLC0415
        from vpshealth.api.render_cache import RenderCache  # noqa: PLC0415

        reader = open_reader(self.paths.database)
        return ApiContext(
            read_model=read_model_on(reader),
            tokens=ApiTokens(ApiTokenRepository(reader), self.clock),
            engine=status,
            clock=self.clock,
            metrics_open=self.settings.metrics_open,
            history=HistoryReader(reader, Retention.from_settings(self.settings)),
            rules=RuleRepository(reader),
            rule_base=self.rule_base,
            check_host=self._check_named,
            loop_lag=loop_lag,
            fleet_answers=RenderCache(FLEET_ANSWER_SECONDS, heap.return_free_memory),
            live_hub=live,
            live_log=LiveLog(reader),
            operations=self.operations,
            read_secret=functools.partial(
                read_secret_file, environ=os.environ, folder=self.settings.secrets_dir
            ),
            sync=SyncSource(reader),
            handback=functools.partial(apply_handback, self.engine),
            changed=None if live is None else functools.partial(self._ring_change, live),
        )

    def _ring_change(self, live: LiveHub) -> None:
        live.publish(append_change(self.engine, self.clock.now()))

    async def _check_named(self, name: str) -> CheckResult:
        record = await asyncio.to_thread(self.hosts.get, name)
        return (await self.check_once([record]))[0]

    def close(self) -> None:
        self.choose_reads_again()
        self.engine.dispose()


class ReadSide:
    """The database the faces read from, and the readers on it. ``node``: the linked node
    whose copy it is (None: this computer's own database); ``synced_at``: when that copy was
    last caught up (the desktop's clock), as read when it was chosen."""

    def __init__(
        self,
        engine: Engine,
        hosts: HostRepository | None,
        retention: Retention,
        *,
        node: NodeLink | None = None,
        synced_at: float | None = None,
    ) -> None:
        self.engine = engine
        self.node = node
        self.synced_at = synced_at
        self.hosts = hosts or HostRepository(engine)
        self.docker = DockerRepository(engine)
        self.read_model = read_model_on(engine, self.hosts)
        self.history = HistoryReader(engine, retention)


def node_link_operations(core: Core) -> NodeLinkOperations:
    """Connecting this computer to a node; its link lives in this computer's settings."""
    s = core.settings
    options = SessionOptions(s.connect_timeout, s.command_timeout, s.keepalive_interval)
    return NodeLinkOperations(
        NodeLinkStore(core.stored_settings),
        core.secrets,
        core.clock,
        core.paths,
        options,
        silence_alarm=s.node_silence_alarm_seconds,
        retention=Retention.from_settings(s),
        takeover=functools.partial(takeover_checks, core),
    )


TAKEOVER_FILE = "takeover.sqlite3"


def takeover_checks(core: Core, notifiers: Sequence[Notifier]) -> TakeoverChecks:
    """This computer's check service for taking over from its silent node: over a database
    of its own, with this computer's secret store, ssh-agent and alerting."""

    def build(engine: Engine) -> Service:
        own = Core(core.settings, core.paths, engine, core.secrets, core.clock)
        return own.build_service(notifiers, catch_stop_signals=False)

    return TakeoverChecks(
        core.paths.data_dir / TAKEOVER_FILE, core.engine, core.secrets, core.clock, build
    )


def heartbeat_operations(core: Core) -> HeartbeatOperations:
    """The node's dead man's switch: its URL in the secret store, its period in settings."""
    return HeartbeatOperations(core.stored_settings, core.secrets, core.clock)


def node_operations(core: Core, local: Operations) -> Operations:
    """The operations of a computer linked to a node: they read the local copy, and their
    edits go to the node (queued while it does not answer)."""
    from vpshealth.operations import node_edits as n  # noqa: PLC0415
    from vpshealth.sync.replica import copy_on_first_use  # noqa: PLC0415

    copy = copy_on_first_use(core.paths)
    edits = n.NodeEdits(local.node, core.clock)
    timeout = core.settings.connect_timeout
    hosts = n.NodeHostOperations(HostRepository(copy), core.secrets, edits, timeout)
    return dataclasses.replace(
        local,
        hosts=hosts,
        rules=n.NodeRuleOperations(RuleRepository(copy), hosts, core.rule_base, core.clock, edits),
        incidents=n.NodeIncidentOperations(IncidentRepository(copy), core.clock, edits),
        silences=n.NodeSilenceOperations(SilenceRepository(copy), hosts, core.clock, edits),
    )


def read_model_on(engine: Engine, hosts: HostRepository | None = None) -> ReadModel:
    return ReadModel(
        hosts or HostRepository(engine),
        DockerRepository(engine),
        IncidentRepository(engine),
        SilenceRepository(engine),
        SettingsRepository(engine),
        EventLog(engine),
        NotificationFeed(engine),
    )


def build_core(settings: Settings | None = None, secrets: SecretStore | None = None) -> Core:
    settings = settings or Settings()
    paths = Paths.from_settings(settings)
    paths.ensure()
    engine = open_database(paths.database, backup_dir=paths.backup_dir)
    if secrets is None:
        secrets = chosen_secret_store(
            settings.secret_store,
            sealed_file=paths.secrets_file,
            passphrase_file=settings.secrets_passphrase_file,
            secrets_dir=settings.secrets_dir,
            environ=os.environ,
        )
    return Core(settings, paths, engine, secrets)

"""Polling one host: collect, parse, derive CPU %, assess against the host's alert rules."""

from __future__ import annotations

import asyncio
import getpass
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from vpshealth.clock import Clock
from vpshealth.collectors import local
from vpshealth.collectors.docker_access import local_opener, local_socket_path, ssh_opener
from vpshealth.collectors.docker_http import Opener
from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.poll_shell import PollShell
from vpshealth.collectors.procfs_parsers import parse_snapshot, parse_system_info
from vpshealth.collectors.remote_commands import SYSTEM_INFO_COMMAND
from vpshealth.collectors.ssh import SshConnection, SshOptions
from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.containers import ContainerIncident, DockerReport
from vpshealth.domain.errors import ParseError
from vpshealth.domain.health import (
    CONNECTION_PROBLEM_STATES,
    CheckResult,
    HostState,
    Problem,
    assess,
    assess_docker,
    worst_of,
)
from vpshealth.domain.hosts import Host
from vpshealth.domain.metrics import CpuTimes, HostMetrics, SystemInfo, with_cpu_percent
from vpshealth.engine import heap
from vpshealth.engine.credentials import CredentialSource
from vpshealth.engine.docker_monitor import DockerMonitor
from vpshealth.store.docker_repository import DockerMemory

log = logging.getLogger(__name__)

RuleSource = Callable[[], RuleSet]
"""The host's current rules, asked at every poll: they can be edited while it runs."""


class Poller(Protocol):
    host: Host

    async def poll(self) -> CheckResult: ...

    async def close(self) -> None: ...


def failed_result(host: Host, at: float, problem: Problem, message: str) -> CheckResult:
    return CheckResult(
        host_name=host.name,
        checked_at=int(at),
        state=CONNECTION_PROBLEM_STATES.get(problem, HostState.UNKNOWN),
        problem=problem,
        message=message,
    )


DockerMemoryLoader = Callable[[], DockerMemory]
DockerFactory = Callable[[Opener], "DockerWatch"]


class DockerWatch:
    """A host's Docker monitor, restored from the database before its first poll."""

    def __init__(self, monitor: DockerMonitor, load_memory: DockerMemoryLoader | None) -> None:
        self.monitor = monitor
        self._load_memory = load_memory

    async def poll(self) -> DockerReport:
        restored: list[ContainerIncident] = []
        if self._load_memory is not None:
            memory = await asyncio.to_thread(self._load_memory)
            self._load_memory = None
            restored = self.monitor.restore(
                memory.containers, memory.open_incidents, memory.seen_at
            )
        report = await self.monitor.poll()
        if restored:
            report = replace(report, changes=(*restored, *report.changes))
        return report


class CheckJudge:
    """What every engine does with a host's collected sample: CPU % since the previous one,
    the host's rules, Docker, the worst of both; and what a failed check means. The Python
    pollers and the Go engine's results (``go_engine``) go through the same judge."""

    def __init__(self, host: Host, rules: RuleSource) -> None:
        self.host = host
        self._rules = rules
        self.previous_cpu: CpuTimes | None = None

    def failed(
        self, at: float, problem: Problem, message: str, docker: DockerWatch | None
    ) -> CheckResult:
        """The CPU baseline is dropped; ``docker``'s events stop until the next listing."""
        self.previous_cpu = None
        if docker is not None:
            docker.monitor.stop_events()
        return failed_result(self.host, at, problem, message)

    def unreadable(self, at: float, exc: ParseError) -> CheckResult:
        self.previous_cpu = None
        return failed_result(
            self.host,
            at,
            Problem.PARSE_ERROR,
            f"could not read what {self.host.name} returned: {exc}",
        )

    async def collected(
        self,
        at: float,
        sampled: HostMetrics,
        info: SystemInfo | None,
        docker: DockerWatch | None,
        duration_ms: Callable[[], int],
    ) -> CheckResult:
        metrics = with_cpu_percent(sampled, self.previous_cpu)
        self.previous_cpu = sampled.cpu_times
        rules = self._rules()
        assessment = assess(metrics, rules)
        report = None
        if docker is not None:
            report = await docker.poll()
            assessment = worst_of(assessment, assess_docker(report, rules))
        return CheckResult(
            host_name=self.host.name,
            checked_at=int(at),
            state=assessment.state,
            problem=assessment.problem,
            message=assessment.message,
            metrics=metrics,
            system_info=info,
            duration_ms=duration_ms(),
            docker=report,
        )


class _SnapshotPoller:
    """What SSH and local polling share: collect, then the judge."""

    def __init__(
        self,
        host: Host,
        clock: Clock,
        rules: RuleSource,
        *,
        docker_factory: DockerFactory | None = None,
    ) -> None:
        self.host = host
        self._clock = clock
        self._judge = CheckJudge(host, rules)
        self._docker_factory = docker_factory
        self._docker: DockerWatch | None = None

    @property
    def _previous_cpu(self) -> CpuTimes | None:
        return self._judge.previous_cpu

    def _make_docker(self) -> DockerWatch | None:
        return None

    async def _collect(self) -> tuple[HostMetrics, SystemInfo | None]:
        raise NotImplementedError

    async def poll(self) -> CheckResult:
        started = self._clock.now()
        t0 = time.perf_counter()
        try:
            sampled, info = await self._collect()
        except CollectionError as exc:
            return self._judge.failed(started, exc.problem, exc.message, self._docker)
        except ParseError as exc:
            return self._judge.unreadable(started, exc)
        if self._docker is None:
            self._docker = self._make_docker()
        return await self._judge.collected(
            started, sampled, info, self._docker, lambda: int((time.perf_counter() - t0) * 1000)
        )

    async def close(self) -> None:
        if self._docker is not None:
            await self._docker.monitor.close()


class LocalPoller(_SnapshotPoller):
    def __init__(
        self,
        host: Host,
        clock: Clock,
        rules: RuleSource,
        *,
        docker_factory: DockerFactory | None = None,
    ) -> None:
        super().__init__(host, clock, rules, docker_factory=docker_factory)
        self._info_sent = False

    def _make_docker(self) -> DockerWatch | None:
        socket = local_socket_path()
        if self._docker_factory is None or socket is None:
            return None
        return self._docker_factory(local_opener(socket, getpass.getuser()))

    async def _collect(self) -> tuple[HostMetrics, SystemInfo | None]:
        snapshot = await asyncio.to_thread(local.read_snapshot, self._previous_cpu is None)
        info = None
        if not self._info_sent:
            info = await asyncio.to_thread(local.read_system_info)
            self._info_sent = True
        return snapshot, info


class SshPoller(_SnapshotPoller):
    def __init__(
        self,
        host: Host,
        clock: Clock,
        rules: RuleSource,
        credentials: CredentialSource,
        options: SshOptions,
        *,
        docker_factory: DockerFactory | None = None,
    ) -> None:
        super().__init__(host, clock, rules, docker_factory=docker_factory)
        self._credentials = credentials
        self._options = options
        self._connection: SshConnection | None = None
        self._shell: PollShell | None = None
        self._info_generation = 0

    async def _collect(self) -> tuple[HostMetrics, SystemInfo | None]:
        if self._connection is None:
            creds = await self._credentials.for_host(self.host)
            self._connection = SshConnection(self.host, creds, self._options)
            self._shell = PollShell(self._connection)
        conn = self._connection
        assert self._shell is not None
        await conn.connect()
        info = None
        if conn.generation != self._info_generation:
            if self._info_generation:
                heap.note_released()  # the previous connection was dropped
            self._judge.previous_cpu = None
            info = parse_system_info(await conn.run(SYSTEM_INFO_COMMAND))
            self._info_generation = conn.generation
        output = await self._shell.sample(first=self._previous_cpu is None)
        return parse_snapshot(output), info

    def _make_docker(self) -> DockerWatch | None:
        if self._docker_factory is None or self._connection is None:
            return None
        return self._docker_factory(ssh_opener(self._connection, self.host.docker_socket))

    async def close(self) -> None:
        await super().close()
        if self._shell is not None:
            self._shell.close()
        if self._connection is not None:
            await self._connection.close()
            heap.note_released()

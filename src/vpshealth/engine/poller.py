"""Polling one host: collect, parse, derive CPU %, assess against thresholds."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from vpshealth.collectors import local
from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.procfs_parsers import parse_snapshot, parse_system_info
from vpshealth.collectors.remote_commands import (
    FIRST_POLL_COMMAND,
    POLL_COMMAND,
    SYSTEM_INFO_COMMAND,
)
from vpshealth.collectors.ssh import SshConnection, SshOptions
from vpshealth.domain.errors import ParseError
from vpshealth.domain.health import (
    CONNECTION_PROBLEM_STATES,
    CheckResult,
    HostState,
    Problem,
    Thresholds,
    assess,
)
from vpshealth.domain.hosts import Host
from vpshealth.domain.metrics import (
    CpuTimes,
    HostMetrics,
    HostSnapshot,
    SystemInfo,
    cpu_percent_between,
)
from vpshealth.engine.clock import Clock
from vpshealth.engine.credentials import CredentialsProvider

log = logging.getLogger(__name__)


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


def to_metrics(snapshot: HostSnapshot, previous: CpuTimes | None) -> HostMetrics:
    before = snapshot.cpu_times_previous or previous
    cpu = cpu_percent_between(before, snapshot.cpu_times) if before is not None else None
    return HostMetrics(
        cpu_percent=cpu,
        cpu_count=snapshot.cpu_count,
        load=snapshot.load,
        memory=snapshot.memory,
        swap=snapshot.swap,
        uptime_seconds=snapshot.uptime_seconds,
        disks=snapshot.disks,
        network=snapshot.network,
    )


class _SnapshotPoller:
    """What SSH and local polling share: CPU deltas between polls and assessment."""

    def __init__(self, host: Host, clock: Clock, thresholds: Thresholds) -> None:
        self.host = host
        self._clock = clock
        self._thresholds = thresholds
        self._previous_cpu: CpuTimes | None = None

    async def _collect(self) -> tuple[HostSnapshot, SystemInfo | None]:
        raise NotImplementedError

    async def poll(self) -> CheckResult:
        started = self._clock.now()
        t0 = time.perf_counter()
        try:
            snapshot, info = await self._collect()
        except CollectionError as exc:
            self._previous_cpu = None
            return failed_result(self.host, started, exc.problem, exc.message)
        except ParseError as exc:
            self._previous_cpu = None
            return failed_result(
                self.host,
                started,
                Problem.PARSE_ERROR,
                f"could not read what {self.host.name} returned: {exc}",
            )
        metrics = to_metrics(snapshot, self._previous_cpu)
        self._previous_cpu = snapshot.cpu_times
        assessment = assess(metrics, self._thresholds)
        return CheckResult(
            host_name=self.host.name,
            checked_at=int(started),
            state=assessment.state,
            problem=assessment.problem,
            message=assessment.message,
            metrics=metrics,
            system_info=info,
            duration_ms=int((time.perf_counter() - t0) * 1000),
        )

    async def close(self) -> None:
        return None


class LocalPoller(_SnapshotPoller):
    def __init__(self, host: Host, clock: Clock, thresholds: Thresholds) -> None:
        super().__init__(host, clock, thresholds)
        self._info_sent = False

    async def _collect(self) -> tuple[HostSnapshot, SystemInfo | None]:
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
        thresholds: Thresholds,
        credentials: CredentialsProvider,
        options: SshOptions,
    ) -> None:
        super().__init__(host, clock, thresholds)
        self._credentials = credentials
        self._options = options
        self._connection: SshConnection | None = None
        self._info_generation = 0

    async def _collect(self) -> tuple[HostSnapshot, SystemInfo | None]:
        if self._connection is None:
            creds = await self._credentials.for_host(self.host)
            self._connection = SshConnection(self.host, creds, self._options)
        conn = self._connection
        await conn.connect()
        info = None
        if conn.generation != self._info_generation:
            self._previous_cpu = None
            info = parse_system_info(await conn.run(SYSTEM_INFO_COMMAND))
            self._info_generation = conn.generation
        command = FIRST_POLL_COMMAND if self._previous_cpu is None else POLL_COMMAND
        return parse_snapshot(await conn.run(command)), info

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

"""The service's checks run by the Go engine (``VPSHEALTH_ENGINE=go``): SSH hosts go to the
``vpshealth-engine`` child, the local host stays on a Python scheduler beside it. Each result
becomes a ``CheckResult`` through the same ``CheckJudge`` and ``DockerMonitor`` as the Python
engine's, so recording and alerting do not know which engine checked."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from vpshealth.collectors.errors import CollectionError
from vpshealth.domain.containers import DockerReport
from vpshealth.domain.docker_json import event_from_json
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.domain.snapshot_json import snapshot_from_json, system_info_from_json
from vpshealth.engine.credentials import CredentialSource
from vpshealth.engine.go_docker import GoDockerCollector, GoDockerError
from vpshealth.engine.go_protocol import (
    DockerAnswer,
    EngineStats,
    EventMessage,
    Message,
    ResultMessage,
    docker_get_line,
    hosts_line,
)
from vpshealth.engine.go_supervisor import GoSupervisor
from vpshealth.engine.poller import CheckJudge, DockerWatch
from vpshealth.engine.scheduler import BACKOFF_PROBLEMS, ResultSink
from vpshealth.engine.service import CheckEngine, HostHooks

log = logging.getLogger(__name__)

DRAIN_SECONDS = 3.0
"""At stop, the longest the results read before the engine exited may take to be handled."""


class Observer(Protocol):
    """Each result's timing (for the benchmarks)."""

    def __call__(
        self, host_id: int, due_at: float, started_at: float, checked_at: float, duration_ms: int
    ) -> None: ...


SupervisorFactory = Callable[[Callable[[Message], None], Callable[[], None]], GoSupervisor]
"""Builds the child's supervisor from the engine's ``on_message`` and ``on_exit``."""
DockerWatchFactory = Callable[[int, Host, HostHooks, GoDockerCollector], DockerWatch]


async def host_entry(host_id: int, host: Host, credentials: CredentialSource) -> dict[str, Any]:
    """The host as the ``hosts`` message has it, with its key material (never logged)."""
    given: dict[str, str | None] | None = None
    error: dict[str, str] | None = None
    try:
        found = await credentials.for_host(host)
        given = {
            "private_key": found.private_key,
            "passphrase": found.passphrase,
            "agent_path": found.agent_path,
        }
    except CollectionError as exc:
        error = {"problem": exc.problem.value, "message": exc.message}
    except Exception:
        log.exception("Could not read the SSH key of %s", host.name)
        error = {
            "problem": Problem.KEYRING_UNAVAILABLE.value,
            "message": f"the SSH key of {host.name} could not be read; see the log file",
        }
    return {
        "id": host_id,
        "name": host.name,
        "address": host.address,
        "port": host.port,
        "user": host.user,
        "host_key": host.host_key,
        "interval_seconds": host.interval_seconds,
        "docker": True,
        "docker_socket": host.docker_socket,
        "credentials": given,
        "credentials_error": error,
    }


class GoHost:
    """One SSH host checked by the engine: its messages handled in order, one at a time."""

    def __init__(
        self,
        host_id: int,
        host: Host,
        hooks: HostHooks,
        *,
        entry: dict[str, Any],
        collector: GoDockerCollector,
        docker: DockerWatch,
    ) -> None:
        self.host_id = host_id
        self.host = host
        self.entry = entry
        self.entry_at = time.monotonic()
        self.judge = CheckJudge(host, hooks.rules)
        self.collector = collector
        self.docker = docker
        self.failures = 0
        self.queue: asyncio.Queue[ResultMessage | EventMessage] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def result_of(self, message: ResultMessage) -> CheckResult:
        at = message.started_at
        if message.problem is not None:
            try:
                problem = Problem(message.problem)
            except ValueError:
                problem = Problem.COMMAND_FAILED
            docker = None if problem is Problem.PARSE_ERROR else self.docker
            return self.judge.failed(at, problem, message.message, docker)
        try:
            if message.snapshot is None:
                raise ValueError("the result has no snapshot")
            sampled = snapshot_from_json(message.snapshot)
            info = (
                None if message.system_info is None else system_info_from_json(message.system_info)
            )
        except ValueError as exc:
            return self.judge.failed(
                at,
                Problem.PARSE_ERROR,
                f"could not read what the Go check engine sent for {self.host.name}: {exc}",
                None,
            )
        if info is not None:  # a new connection: no CPU baseline from the one before
            self.judge.previous_cpu = None
        if message.docker is None:
            result = await self.judge.collected(
                at, sampled, info, None, lambda: message.duration_ms
            )
            return replace(result, docker=DockerReport(None))  # as a skipped Docker poll
        self.collector.offer(message.docker)
        return await self.judge.collected(
            at, sampled, info, self.docker, lambda: message.duration_ms
        )

    def note(self, result: CheckResult) -> None:
        self.failures = self.failures + 1 if result.problem in BACKOFF_PROBLEMS else 0
        if result.state is HostState.UNREACHABLE and self.failures == 1:
            log.warning("%s: %s", self.host.name, result.message)


class GoEngine:
    """``CheckEngine`` of the service with the Go child. ``local``: the Python scheduler for
    the local host; ``hooks`` gives a host's rules and incident sink (and tells the alerts of
    it); ``observer`` gets each result's timing."""

    def __init__(
        self,
        make_supervisor: SupervisorFactory,
        local: CheckEngine,
        hooks: Callable[[int, Host], HostHooks],
        sink: ResultSink,
        *,
        credentials: CredentialSource,
        docker_watch: DockerWatchFactory,
        observer: Observer | None = None,
    ) -> None:
        self._make_supervisor = make_supervisor
        self._local = local
        self._hooks = hooks
        self._sink = sink
        self._credentials = credentials
        self._docker_watch = docker_watch
        self._observer = observer
        self._supervisor: GoSupervisor | None = None
        self._hosts: dict[int, GoHost] = {}
        self._requests = itertools.count(1)
        self._pending: dict[int, asyncio.Future[DockerAnswer]] = {}
        self.latest_stats: EngineStats | None = None

    @property
    def host_ids(self) -> set[int]:
        return self._local.host_ids | set(self._hosts)

    @property
    def supervisor(self) -> GoSupervisor | None:
        return self._supervisor

    async def set_hosts(self, hosts: dict[int, Host], *, start_now: bool = False) -> None:
        wanted = {host_id: host for host_id, host in hosts.items() if host.enabled}
        remote = {host_id: host for host_id, host in wanted.items() if not host.is_local}
        await self._local.set_hosts(
            {host_id: host for host_id, host in wanted.items() if host.is_local},
            start_now=start_now,
        )
        changed = False
        for host_id in list(self._hosts):
            current, host = self._hosts[host_id].host, remote.get(host_id)
            if host is not current and host != current:
                await self._drop(self._hosts.pop(host_id))
                changed = True
        added = [(i, h) for i, h in remote.items() if i not in self._hosts]
        entries = await asyncio.gather(*(host_entry(i, h, self._credentials) for i, h in added))
        for (host_id, host), entry in zip(added, entries, strict=True):
            self._hosts[host_id] = self._start_host(host_id, host, entry)
            changed = True
        changed = await self._retry_credentials() or changed
        if self._supervisor is None:
            if not self._hosts:
                return
            self._supervisor = self._make_supervisor(self._on_message, self._on_exit)
            await self._supervisor.set_hosts(self._hosts_line())
            self._supervisor.start(start_now=start_now)
        elif changed:
            await self._supervisor.set_hosts(self._hosts_line())

    async def _retry_credentials(self) -> bool:
        """Hosts whose key could not be read are asked again once per interval, as the
        Python poller asks at each check until it has a connection."""
        now = time.monotonic()
        due = [
            h
            for h in self._hosts.values()
            if h.entry["credentials_error"] and now - h.entry_at >= h.host.interval_seconds
        ]
        changed = False
        for go_host in due:
            entry = await host_entry(go_host.host_id, go_host.host, self._credentials)
            go_host.entry_at = now
            if entry != go_host.entry:
                go_host.entry = entry
                changed = True
        return changed

    def _hosts_line(self) -> bytes:
        return hosts_line([h.entry for h in self._hosts.values()])

    def _start_host(self, host_id: int, host: Host, entry: dict[str, Any]) -> GoHost:
        hooks = self._hooks(host_id, host)

        async def docker_get(path: str) -> DockerAnswer:
            return await self.docker_get(host_id, path)

        collector = GoDockerCollector(docker_get)
        docker = self._docker_watch(host_id, host, hooks, collector)
        go_host = GoHost(host_id, host, hooks, entry=entry, collector=collector, docker=docker)
        go_host.task = asyncio.create_task(self._process(go_host), name=f"results of {host.name}")
        return go_host

    async def _process(self, go_host: GoHost) -> None:
        while True:
            message = await go_host.queue.get()
            try:
                if isinstance(message, EventMessage):
                    go_host.collector.add_event(event_from_json(message.event))
                else:
                    await self._handle(go_host, message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Could not handle the Go check engine's %s for %s",
                              type(message).__name__, go_host.host.name)  # fmt: skip
            finally:
                go_host.queue.task_done()

    async def _handle(self, go_host: GoHost, message: ResultMessage) -> None:
        result = await go_host.result_of(message)
        go_host.note(result)
        self._sink(go_host.host_id, result)
        if self._observer is not None:
            self._observer(
                go_host.host_id,
                message.due_at,
                message.started_at,
                message.checked_at,
                message.duration_ms,
            )

    def _on_message(self, message: Message) -> None:
        if isinstance(message, ResultMessage | EventMessage):
            go_host = self._hosts.get(message.host_id)
            if go_host is None:
                log.debug("A message of the Go check engine for host %s, no longer checked",
                          message.host_id)  # fmt: skip
            else:
                go_host.queue.put_nowait(message)
        elif isinstance(message, DockerAnswer):
            future = self._pending.pop(message.request, None)
            if future is not None and not future.done():
                future.set_result(message)
        elif isinstance(message, EngineStats):
            self.latest_stats = message

    def _on_exit(self) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(GoDockerError("the Go check engine stopped"))

    async def docker_get(self, host_id: int, path: str) -> DockerAnswer:
        """One request to the host's Docker API over its connection in the engine."""
        supervisor = self._supervisor
        if supervisor is None or not supervisor.running:
            raise GoDockerError("the Go check engine is not running")
        request = next(self._requests)
        future: asyncio.Future[DockerAnswer] = asyncio.get_running_loop().create_future()
        self._pending[request] = future
        try:
            if not await supervisor.send(docker_get_line(request, host_id, path)):
                raise GoDockerError("the Go check engine is not running")
            return await future
        finally:
            self._pending.pop(request, None)

    async def _drop(self, go_host: GoHost) -> None:
        task = go_host.task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await go_host.docker.monitor.close()

    async def stop(self) -> None:
        """Stops the engine and the local scheduler; the results it wrote before it exited
        are handled first. ``set_hosts`` starts a new engine."""
        await self._local.stop()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            await supervisor.stop()
        hosts, self._hosts = list(self._hosts.values()), {}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_SECONDS):
                await asyncio.gather(*(h.queue.join() for h in hosts))
        for go_host in hosts:
            await self._drop(go_host)

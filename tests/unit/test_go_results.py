"""A Go engine's result becomes the same CheckResult as the Python poller's for the same
samples: CPU % between samples, the assessment, Docker views and incidents, failures."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.unit.fake_clock import FakeClock
from vpshealth.collectors.docker_collector import DockerListing
from vpshealth.collectors.errors import CollectionError
from vpshealth.domain.alert_rules import RuleBook
from vpshealth.domain.container_identity import group_of
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerStats,
    DockerEvent,
    IncidentKind,
)
from vpshealth.domain.docker_json import container_metrics_to_json, container_to_json
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.domain.metrics import (
    CpuTimes,
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    SwapUsage,
    SystemInfo,
)
from vpshealth.domain.snapshot_json import snapshot_to_json, system_info_to_json
from vpshealth.engine.docker_monitor import DockerMonitor
from vpshealth.engine.go_docker import GoDockerCollector
from vpshealth.engine.go_engine import GoHost
from vpshealth.engine.go_protocol import DockerAnswer, ResultMessage
from vpshealth.engine.poller import DockerWatch, LocalPoller
from vpshealth.engine.service import HostHooks

HOST = Host(name="web1", address="127.0.0.1", key_ref="k")
INFO = SystemInfo(hostname="web1", kernel="6.1.0", os_name="Debian GNU/Linux 12")


def sample(busy: int, idle: int, *, first: bool, used_disk: int) -> HostMetrics:
    previous = CpuTimes(user=1, nice=0, system=1, idle=8, iowait=0, irq=0, softirq=0, steal=0)
    return HostMetrics(
        cpu_percent=None,
        cpu_count=2,
        load=LoadAverage(0.5, 0.4, 0.3),
        memory=MemoryUsage(total_bytes=4_000_000_000, available_bytes=3_000_000_000),
        swap=SwapUsage(total_bytes=0, free_bytes=0),
        uptime_seconds=1000.0,
        disks=(DiskUsage("/", "ext4", 100_000, used_disk, 100_000 - used_disk, None, None),),
        cpu_times=CpuTimes(busy, 0, busy, idle, 0, 0, 0, 0),
        cpu_times_previous=previous if first else None,
    )


SAMPLES = [
    sample(5, 30, first=True, used_disk=50_000),
    sample(50, 40, first=False, used_disk=97_000),  # the disk crosses critical
]

LABELS = (("coolify.managed", "true"), ("coolify.projectName", "shop"))
RUNNING = Container(
    id="c" * 64, name="web-abc", image="vhbusy", created=100, state=ContainerState.RUNNING,
    started_at=100, labels=LABELS, group=group_of(dict(LABELS), "web-abc", "vhbusy"),
)  # fmt: skip
CRASHED = dataclasses.replace(RUNNING, state=ContainerState.EXITED, exit_code=3, finished_at=150)
STATS = [
    ContainerStats(RUNNING.id, 1_000, 10_000, 2, 5_000, 1_000, 100_000),
    ContainerStats(RUNNING.id, 3_000, 20_000, 2, 6_000, 1_000, 100_000),
]
LISTINGS = [
    DockerListing((RUNNING,), {RUNNING.id: STATS[0]}),
    DockerListing((RUNNING,), {RUNNING.id: STATS[1]}),
    DockerListing((CRASHED,), {}),
]
# What the Go engine sends for the same listings: its own formulas' metrics.
GO_METRICS = [
    ContainerMetrics(None, 4_000, 100_000),
    ContainerMetrics(40.0, 5_000, 100_000),
    None,
]
LOG_LINES = "starting\nfatal: no database"


class Listings:
    """The Python engine's collector, replaying the listings above."""

    def __init__(self) -> None:
        self._listings = list(LISTINGS)

    async def collect(self) -> DockerListing:
        return self._listings.pop(0)

    async def events(self, since: int) -> Any:
        raise NotImplementedError
        yield

    async def last_run_logs(self, container_id: str, at: int) -> str:
        return LOG_LINES

    def close(self) -> None:
        return None


class ScriptedPoller(LocalPoller):
    """The Python engine's poller with its samples given (what it shares with SshPoller:
    ``_SnapshotPoller.poll``)."""

    def __init__(self, clock: FakeClock, rules: Any, outcomes: list[Any]) -> None:
        def docker(opener: Any) -> DockerWatch:
            raise AssertionError

        super().__init__(HOST, clock, rules, docker_factory=docker)
        self._outcomes = outcomes
        monitor = DockerMonitor(
            HOST.name, Listings(), clock, follow_events=False, logs_wanted=lambda: True
        )
        self._watch = DockerWatch(monitor, None)

    def _make_docker(self) -> DockerWatch:
        return self._watch

    async def _collect(self) -> tuple[HostMetrics, SystemInfo | None]:
        outcome = self._outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def go_result(at: float, index: int | None, problem: str | None = None) -> ResultMessage:
    docker: dict[str, Any] | None = None
    snapshot = None
    if index is not None:
        snapshot = snapshot_to_json(SAMPLES[min(index, 1)])
        listing = LISTINGS[index]
        metrics = GO_METRICS[index]
        docker = {"containers": [container_to_json(c) for c in listing.containers]}
        if metrics is not None:
            docker["metrics"] = {RUNNING.id: container_metrics_to_json(metrics)}
    return ResultMessage(
        host_id=1, seq=1, due_at=at, started_at=at, checked_at=at, duration_ms=0,
        problem=problem, message="" if problem is None else "web1 did not answer",
        snapshot=snapshot, system_info=system_info_to_json(INFO) if index == 0 else None,
        docker=docker,
    )  # fmt: skip


async def no_docker_get(path: str) -> DockerAnswer:
    if path.endswith("/json"):
        return DockerAnswer(1, 404, b"", None)
    raise AssertionError(path)


async def logs_docker_get(path: str) -> DockerAnswer:
    if path.endswith("/json"):
        return DockerAnswer(
            1, 200, b'{"State": {"Status": "exited"}, "Config": {"Tty": true}}', None
        )
    return DockerAnswer(2, 200, LOG_LINES.encode(), None)


def comparable(result: CheckResult) -> CheckResult:
    return dataclasses.replace(result, duration_ms=0)


async def test_the_go_results_are_judged_as_the_python_pollers() -> None:
    rules = RuleBook({"disk.critical": 95.0, "disk.warning": 85.0})
    clock = FakeClock()
    python = ScriptedPoller(
        clock,
        lambda: rules.rules(1),
        [
            (SAMPLES[0], INFO),
            (SAMPLES[1], None),
            CollectionError(Problem.UNREACHABLE, "web1 did not answer"),
            (SAMPLES[1], None),
        ],
    )
    collector = GoDockerCollector(logs_docker_get)
    monitor = DockerMonitor(
        HOST.name, collector, clock, follow_events=False, logs_wanted=lambda: True,
        absent_recheck_polls=0,
    )  # fmt: skip
    go = GoHost(
        1,
        HOST,
        HostHooks(lambda: rules.rules(1), lambda incidents: None),
        entry={},
        collector=collector,
        docker=DockerWatch(monitor, None),
    )
    pairs = []
    for index in (0, 1, None, 2):
        at = clock.now()
        expected = await python.poll()
        got = await go.result_of(go_result(at, index, None if index is not None else "unreachable"))
        pairs.append((comparable(got), comparable(expected)))
        await clock.advance(30)
    for got, expected in pairs:
        assert got == expected
    first, second, failed, crashed = (got for got, _ in pairs)
    assert first.metrics is not None
    assert first.metrics.cpu_percent is not None  # from the first check's own two samples
    assert second.metrics is not None
    assert second.metrics.cpu_percent is not None  # since the check before
    assert second.state is HostState.CRITICAL
    assert second.docker is not None
    assert second.docker.containers is not None
    assert second.docker.containers[0].metrics == GO_METRICS[1]
    assert failed.state is HostState.UNREACHABLE
    assert failed.problem is Problem.UNREACHABLE
    assert crashed.docker is not None
    opened = [c for c in crashed.docker.changes if c.opened]
    assert [(c.kind, c.log_lines) for c in opened] == [(IncidentKind.CRASHED, LOG_LINES)]


async def test_events_reach_the_monitor_in_order() -> None:
    collector = GoDockerCollector(no_docker_get)
    for t in (1, 2):
        collector.add_event(DockerEvent(time=t, action="die", container_id=RUNNING.id, name="x"))
    stream = collector.events(0)
    assert [(await anext(stream)).time, (await anext(stream)).time] == [1, 2]
    assert await collector.last_run_logs(RUNNING.id, 5) == ""
    assert await collector.last_run_logs("../etc", 5) == ""

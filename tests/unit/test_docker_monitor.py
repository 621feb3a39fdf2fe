"""The Docker monitor: a host without Docker, and the last log lines of a crash."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.unit.fake_clock import FakeClock
from vpshealth.collectors.docker_access import DockerAccess, DockerAccessError
from vpshealth.collectors.docker_collector import DockerCollector, DockerListing
from vpshealth.collectors.docker_http import DockerHttpError
from vpshealth.domain.container_incidents import IncidentTracker
from vpshealth.domain.containers import (
    Container,
    ContainerIncident,
    ContainerState,
    DockerEvent,
    IncidentKind,
)
from vpshealth.engine import docker_monitor
from vpshealth.engine.docker_monitor import ABSENT_RECHECK_POLLS, DockerMonitor


class AbsentDocker(DockerCollector):
    def __init__(self) -> None:
        self.asked = 0

    async def collect(self) -> DockerListing:
        self.asked += 1
        raise DockerAccessError(DockerAccess.ABSENT, "no Docker socket at /var/run/docker.sock")

    def close(self) -> None:
        return None


async def test_a_host_without_docker_is_asked_again_only_now_and_then() -> None:
    collector = AbsentDocker()
    monitor = DockerMonitor("web1", collector, FakeClock(), follow_events=False)
    reports = [await monitor.poll() for _ in range(2 * (ABSENT_RECHECK_POLLS + 1))]
    assert all(r.containers is None and r.problem is None and not r.changes for r in reports)
    assert collector.asked == 2
    await monitor.close()


RUNNING = Container(
    id="c" * 64, name="web", image="vhbusy", created=100, state=ContainerState.RUNNING,
    started_at=100,
)  # fmt: skip
CRASHED = dataclasses.replace(RUNNING, state=ContainerState.EXITED, exit_code=3, finished_at=150)


class CrashingDocker(DockerCollector):
    """A container up at the first listing and exited 3 at the next; its logs as given."""

    def __init__(self, logs: Callable[[], Awaitable[str]]) -> None:
        self._listings = [[RUNNING], [CRASHED]]
        self._logs = logs
        self.asked: list[tuple[str, int]] = []

    async def collect(self) -> DockerListing:
        return DockerListing(tuple(self._listings.pop(0)), {})

    async def last_run_logs(self, container_id: str, at: int) -> str:
        self.asked.append((container_id, at))
        return await self._logs()

    def close(self) -> None:
        return None


async def crash_changes(
    logs: Callable[[], Awaitable[str]], *, wanted: bool = True
) -> tuple[list[ContainerIncident], CrashingDocker]:
    collector = CrashingDocker(logs)
    clock = FakeClock()
    monitor = DockerMonitor(
        "web1", collector, clock, follow_events=False, logs_wanted=lambda: wanted
    )
    await monitor.poll()
    await clock.advance(60)
    report = await monitor.poll()
    await monitor.close()
    return list(report.changes), collector


async def test_a_crash_opens_with_the_containers_last_log_lines() -> None:
    async def logs() -> str:
        return "starting\nfatal: giving up"

    changes, collector = await crash_changes(logs)
    assert [(c.kind, c.log_lines) for c in changes] == [
        (IncidentKind.CRASHED, "starting\nfatal: giving up")
    ]
    assert collector.asked == [(RUNNING.id, changes[0].at)]


async def test_with_the_rule_off_no_logs_are_read() -> None:
    async def logs() -> str:
        return "secret=hunter2"

    changes, collector = await crash_changes(logs, wanted=False)
    assert [c.log_lines for c in changes] == [None]
    assert collector.asked == []


async def test_logs_that_fail_leave_the_incident_without_lines() -> None:
    async def logs() -> str:
        raise DockerHttpError(500, "Docker answered 500: boom")

    changes, _ = await crash_changes(logs)
    assert [(c.kind, c.log_lines) for c in changes] == [(IncidentKind.CRASHED, None)]


async def test_logs_that_take_too_long_do_not_hold_the_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(docker_monitor, "LOGS_TIMEOUT_SECONDS", 0.05)

    async def logs() -> str:
        await asyncio.sleep(30)
        return "never"

    started = time.monotonic()
    changes, _ = await crash_changes(logs)
    assert time.monotonic() - started < 5
    assert [(c.kind, c.log_lines) for c in changes] == [(IncidentKind.CRASHED, None)]


class ScriptedTracker(IncidentTracker):
    """Answers each event with the changes given for its action; the open incidents as set."""

    def __init__(self, answers: dict[str, list[ContainerIncident]]) -> None:
        super().__init__()
        self.answers = answers
        self.open: list[ContainerIncident] = []

    def observe_event(
        self, event: DockerEvent, listed: Container | None
    ) -> list[ContainerIncident]:
        return self.answers.get(event.action, [])

    def open_incidents(self) -> list[ContainerIncident]:
        return list(self.open)


class RunLogs(DockerCollector):
    def __init__(self) -> None:
        self.runs = ["run 1 starting\nrun 1 failed", "run 2 starting\nrun 2 failed"]
        self.asked: list[int] = []

    async def last_run_logs(self, container_id: str, at: int) -> str:
        self.asked.append(at)
        return self.runs.pop(0)

    def close(self) -> None:
        return None


def incident(kind: IncidentKind, at: int) -> ContainerIncident:
    return ContainerIncident(kind, True, at, RUNNING.id, "web", None, f"web {kind.value}")


async def test_a_restart_loop_gets_the_lines_of_the_run_before_the_restart_read_at_its_die() -> (
    None
):
    loop = incident(IncidentKind.RESTART_LOOP, 212)
    tracker = ScriptedTracker({"die": [], "start": [loop]})
    tracker.open = [incident(IncidentKind.CRASHED, 200)]
    collector = RunLogs()
    sent: list[list[ContainerIncident]] = []
    monitor = DockerMonitor(
        "web1", collector, FakeClock(), on_incidents=sent.append, tracker=tracker,
        logs_wanted=lambda: True,
    )  # fmt: skip
    await monitor._handle(DockerEvent(211, "die", RUNNING.id, "web", exit_code=3))
    assert collector.asked == [211], "read while the container is down"
    await monitor._handle(DockerEvent(212, "start", RUNNING.id, "web"))
    assert [c.log_lines for c in sent[0]] == ["run 1 starting\nrun 1 failed"]
    assert collector.asked == [211], "not read again at the start"

    tracker.open.append(loop)
    await monitor._handle(DockerEvent(220, "die", RUNNING.id, "web", exit_code=3))
    assert collector.asked == [211], "once the loop is open, dies read nothing more"
    await monitor.close()


async def test_lines_kept_from_long_ago_do_not_serve_a_later_loop() -> None:
    tracker = ScriptedTracker({"start": [incident(IncidentKind.RESTART_LOOP, 1000)]})
    tracker.open = [incident(IncidentKind.CRASHED, 200)]
    collector = RunLogs()
    sent: list[list[ContainerIncident]] = []
    monitor = DockerMonitor(
        "web1", collector, FakeClock(), on_incidents=sent.append, tracker=tracker,
        logs_wanted=lambda: True,
    )  # fmt: skip
    await monitor._handle(DockerEvent(211, "die", RUNNING.id, "web", exit_code=3))
    await monitor._handle(DockerEvent(1000, "start", RUNNING.id, "web"))
    assert [c.log_lines for c in sent[0]] == ["run 2 starting\nrun 2 failed"]
    assert collector.asked == [211, 1000]
    await monitor.close()

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.unit.fake_clock import FakeClock
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.engine.scheduler import Scheduler


class FakePoller:
    """Records when it was polled; each poll takes ``takes`` virtual seconds."""

    running = 0
    peak = 0

    def __init__(
        self,
        host: Host,
        clock: FakeClock,
        *,
        takes: float = 0.0,
        outcome: Callable[[int], Problem | None] = lambda _n: None,
    ) -> None:
        self.host = host
        self.clock = clock
        self.takes = takes
        self.outcome = outcome
        self.started: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.closed = 0

    async def poll(self) -> CheckResult:
        self.started.append(self.clock.now())
        self.in_flight += 1
        FakePoller.running += 1
        FakePoller.peak = max(FakePoller.peak, FakePoller.running)
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.takes:
                await self.clock.sleep(self.takes)
        finally:
            self.in_flight -= 1
            FakePoller.running -= 1
        problem = self.outcome(len(self.started))
        if isinstance(problem, Exception):
            raise problem
        state = HostState.OK if problem is None else HostState.UNREACHABLE
        return CheckResult(self.host.name, int(self.clock.now()), state, problem, "x")

    async def close(self) -> None:
        self.closed += 1


def host(name: str, interval: int = 10, enabled: bool = True) -> Host:
    return Host(name=name, address="192.0.2.1", interval_seconds=interval, enabled=enabled)


def make(
    clock: FakeClock, pollers: dict[str, FakePoller], **kwargs: object
) -> tuple[Scheduler, list[tuple[int, CheckResult]]]:
    sink: list[tuple[int, CheckResult]] = []
    defaults: dict[str, object] = {"max_concurrency": 100, "poll_timeout": 60.0}
    defaults.update(kwargs)
    scheduler = Scheduler(
        lambda _id, h: pollers[h.name],
        lambda host_id, result: sink.append((host_id, result)),
        clock,
        jitter=lambda _interval: 0.0,
        **defaults,  # type: ignore[arg-type]
    )
    return scheduler, sink


@pytest.fixture(autouse=True)
def _reset_counters() -> None:
    FakePoller.running = 0
    FakePoller.peak = 0


async def test_each_host_runs_on_its_own_interval() -> None:
    clock = FakeClock()
    t0 = clock.now()
    pollers = {"a": FakePoller(host("a", 10), clock), "b": FakePoller(host("b", 30), clock)}
    scheduler, sink = make(clock, pollers)
    await scheduler.set_hosts({1: pollers["a"].host, 2: pollers["b"].host})
    await clock.advance(60)
    await scheduler.stop()
    assert [t - t0 for t in pollers["a"].started] == [0, 10, 20, 30, 40, 50, 60]
    assert [t - t0 for t in pollers["b"].started] == [0, 30, 60]
    assert {host_id for host_id, _ in sink} == {1, 2}
    assert len(sink) == 10


async def test_jitter_spreads_the_first_polls() -> None:
    clock = FakeClock()
    t0 = clock.now()
    pollers = {"a": FakePoller(host("a", 10), clock)}
    sink: list[tuple[int, CheckResult]] = []
    scheduler = Scheduler(
        lambda _id, h: pollers[h.name],
        lambda i, r: sink.append((i, r)),
        clock,
        max_concurrency=4,
        poll_timeout=60,
        jitter=lambda interval: interval * 0.7,
    )
    await scheduler.set_hosts({1: pollers["a"].host})
    await clock.advance(20)
    await scheduler.stop()
    assert [t - t0 for t in pollers["a"].started] == [7, 17]


async def test_a_slow_host_is_never_polled_twice_at_once() -> None:
    clock = FakeClock()
    t0 = clock.now()
    pollers = {"a": FakePoller(host("a", 10), clock, takes=25)}
    scheduler, _ = make(clock, pollers)
    await scheduler.set_hosts({1: pollers["a"].host})
    await clock.advance(100)
    await scheduler.stop()
    assert pollers["a"].max_in_flight == 1
    assert [t - t0 for t in pollers["a"].started] == [0, 30, 60, 90]


async def test_global_concurrency_is_bounded() -> None:
    clock = FakeClock()
    pollers = {f"h{i}": FakePoller(host(f"h{i}", 10), clock, takes=4) for i in range(6)}
    scheduler, sink = make(clock, pollers, max_concurrency=2)
    await scheduler.set_hosts({i: p.host for i, p in enumerate(pollers.values())})
    await clock.advance(30)
    await scheduler.stop()
    assert FakePoller.peak == 2
    assert len(sink) >= 6


async def test_unreachable_host_backs_off_and_recovers() -> None:
    clock = FakeClock()
    t0 = clock.now()

    def outcome(n: int) -> Problem | None:
        return Problem.UNREACHABLE if n <= 4 else None

    pollers = {"a": FakePoller(host("a", 10), clock, outcome=outcome)}
    scheduler, sink = make(clock, pollers)
    await scheduler.set_hosts({1: pollers["a"].host})
    await clock.advance(200)
    await scheduler.stop()
    starts = [t - t0 for t in pollers["a"].started]
    # failures 1,2,3,4 then ok: waits 10, 20, 40, 80, then back to every 10 s
    assert starts[:7] == [0, 10, 30, 70, 150, 160, 170]
    assert [r.problem for _, r in sink[:5]] == [Problem.UNREACHABLE] * 4 + [None]


async def test_a_crashing_poller_becomes_a_result_and_the_loop_goes_on() -> None:
    clock = FakeClock()

    def outcome(n: int) -> Problem | None:
        if n == 1:
            raise RuntimeError("boom")  # type: ignore[return-value]
        return None

    pollers = {"a": FakePoller(host("a", 10), clock)}
    pollers["a"].outcome = outcome
    scheduler, sink = make(clock, pollers)
    await scheduler.set_hosts({1: pollers["a"].host})
    await clock.advance(10)
    await scheduler.stop()
    assert sink[0][1].problem is Problem.COMMAND_FAILED
    assert "internal error" in sink[0][1].message
    assert sink[1][1].state is HostState.OK


async def test_poll_timeout_gives_a_timeout_result() -> None:
    clock = FakeClock()
    never = asyncio.Event()

    class Hanging(FakePoller):
        async def poll(self) -> CheckResult:
            await never.wait()
            raise AssertionError("unreachable")

    poller = Hanging(host("a"), clock)
    scheduler, _ = make(clock, {"a": poller}, poll_timeout=0.05)
    result = await scheduler.poll_once(1, poller)
    assert result.problem is Problem.TIMEOUT
    assert result.state is HostState.UNREACHABLE
    assert "0.05 s" in result.message
    assert poller.closed == 1


async def test_set_hosts_follows_edits_disables_and_removals() -> None:
    clock = FakeClock()
    made: list[FakePoller] = []

    def factory(_host_id: int, h: Host) -> FakePoller:
        made.append(FakePoller(h, clock))
        return made[-1]

    sink: list[tuple[int, CheckResult]] = []
    scheduler = Scheduler(
        factory,
        lambda i, r: sink.append((i, r)),
        clock,
        max_concurrency=4,
        poll_timeout=60,
        jitter=lambda _i: 0.0,
    )
    await scheduler.set_hosts({1: host("a"), 2: host("b")})
    assert scheduler.host_ids == {1, 2}
    await scheduler.set_hosts({1: host("a"), 2: host("b")})
    assert len(made) == 2, "unchanged hosts keep their poller"
    await scheduler.set_hosts({1: host("a", interval=20), 2: host("b", enabled=False)})
    assert scheduler.host_ids == {1}
    assert [p.closed for p in made] == [1, 1, 0]
    assert made[-1].host.interval_seconds == 20
    await scheduler.set_hosts({})
    assert scheduler.host_ids == set()
    assert made[-1].closed == 1

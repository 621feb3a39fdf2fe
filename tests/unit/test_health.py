"""Assessment against the alert rules (domain.health) and the derived metric values
(domain.metrics)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.containers import ContainerIncident, DockerReport, IncidentKind
from vpshealth.domain.health import (
    CONNECTION_PROBLEM_STATES,
    Assessment,
    HostState,
    Problem,
    assess,
    assess_docker,
    worst_of,
)
from vpshealth.domain.metrics import (
    CpuTimes,
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    SwapUsage,
    cpu_percent_between,
    with_cpu_percent,
)

GIB = 1024**3
DEFAULTS = RuleSet()


def _memory(percent: float) -> MemoryUsage:
    """A memory reading whose percent is exactly ``percent`` (to 1/100 of a percent)."""
    total = 10_000 * GIB
    used = round(percent * 100) * GIB
    return MemoryUsage(total_bytes=total, available_bytes=total - used)


def _disk(mount: str, percent: float) -> DiskUsage:
    used = round(percent * 100)
    available = 10_000 - used
    return DiskUsage(mount, "ext4", total_bytes=10_500, used_bytes=used, available_bytes=available)


def metrics(
    cpu: float | None = 10.0,
    memory: float = 20.0,
    disks: dict[str, float] | None = None,
) -> HostMetrics:
    return HostMetrics(
        cpu_percent=cpu,
        cpu_count=4,
        load=LoadAverage(0.5, 0.4, 0.3),
        memory=_memory(memory),
        swap=SwapUsage(0, 0),
        uptime_seconds=1000.0,
        disks=tuple(_disk(m, p) for m, p in (disks or {"/": 30.0}).items()),
        network=(),
    )


def test_helpers_produce_exact_percentages() -> None:
    assert _memory(85.0).percent == 85.0
    assert _memory(84.99).percent == pytest.approx(84.99)
    assert _disk("/", 95.0).percent == 95.0


# --------------------------------------------------------------------------- assess


def test_all_below_thresholds_is_ok() -> None:
    result = assess(metrics(cpu=84.99, memory=84.99, disks={"/": 84.99, "/data": 0.0}), DEFAULTS)
    assert result.state is HostState.OK
    assert result.problem is None
    assert result.message == "All good"


@pytest.mark.parametrize(
    ("cpu", "state", "message"),
    [
        (84.99, HostState.OK, "All good"),
        (85.0, HostState.WARNING, "CPU at 85% (limit 85%)"),
        (90.4, HostState.WARNING, "CPU at 90% (limit 85%)"),
        (94.99, HostState.WARNING, "CPU at 95% (limit 85%)"),
        (95.0, HostState.CRITICAL, "CPU at 95% (limit 95%)"),
        (100.0, HostState.CRITICAL, "CPU at 100% (limit 95%)"),
    ],
)
def test_cpu_thresholds_at_the_boundaries(cpu: float, state: HostState, message: str) -> None:
    result = assess(metrics(cpu=cpu), DEFAULTS)
    assert result.state is state
    assert result.problem == (None if state is HostState.OK else Problem.CPU_HIGH)
    assert result.message == message


@pytest.mark.parametrize(
    ("memory", "state", "message"),
    [
        (84.99, HostState.OK, "All good"),
        (85.0, HostState.WARNING, "memory at 85% (limit 85%)"),
        (95.0, HostState.CRITICAL, "memory at 95% (limit 95%)"),
    ],
)
def test_memory_thresholds_at_the_boundaries(memory: float, state: HostState, message: str) -> None:
    result = assess(metrics(memory=memory), DEFAULTS)
    assert result.state is state
    assert result.problem == (None if state is HostState.OK else Problem.MEMORY_HIGH)
    assert result.message == message


@pytest.mark.parametrize(
    ("percent", "state", "message"),
    [
        (84.99, HostState.OK, "All good"),
        (85.0, HostState.WARNING, "disk /data at 85% (limit 85%)"),
        (95.0, HostState.CRITICAL, "disk /data at 95% (limit 95%)"),
    ],
)
def test_disk_thresholds_name_the_mount(percent: float, state: HostState, message: str) -> None:
    result = assess(metrics(disks={"/": 10.0, "/data": percent}), DEFAULTS)
    assert result.state is state
    assert result.problem == (None if state is HostState.OK else Problem.DISK_HIGH)
    assert result.message == message


def test_critical_memory_beats_warning_cpu_and_disk() -> None:
    result = assess(metrics(cpu=94.0, memory=96.0, disks={"/": 93.0}), DEFAULTS)
    assert result.state is HostState.CRITICAL
    assert result.problem is Problem.MEMORY_HIGH
    assert result.message == "memory at 96% (limit 95%)"


def test_critical_disk_beats_warning_cpu() -> None:
    result = assess(
        metrics(cpu=90.0, memory=10.0, disks={"/": 20.0, "/var/lib/docker": 99.0}), DEFAULTS
    )
    assert result.state is HostState.CRITICAL
    assert result.problem is Problem.DISK_HIGH
    assert result.message == "disk /var/lib/docker at 99% (limit 95%)"


def test_among_equal_states_the_highest_value_wins() -> None:
    result = assess(metrics(cpu=86.0, memory=88.0, disks={"/": 87.0, "/srv": 91.0}), DEFAULTS)
    assert result.state is HostState.WARNING
    assert result.problem is Problem.DISK_HIGH
    assert result.message == "disk /srv at 91% (limit 85%)"


def test_worst_of_several_critical_disks_is_named() -> None:
    result = assess(metrics(disks={"/": 96.0, "/boot": 99.5, "/home": 97.0}), DEFAULTS)
    assert result.message == "disk /boot at 100% (limit 95%)"
    assert result.problem is Problem.DISK_HIGH


def test_cpu_none_is_ignored() -> None:
    assert assess(metrics(cpu=None, memory=10.0), DEFAULTS).state is HostState.OK
    result = assess(metrics(cpu=None, memory=10.0, disks={"/": 97.0}), DEFAULTS)
    assert result.state is HostState.CRITICAL
    assert result.message == "disk / at 97% (limit 95%)"


def test_no_disks_and_empty_disk_are_fine() -> None:
    empty = DiskUsage("/mnt/empty", "ext4", 0, 0, 0)
    m = metrics()
    m = HostMetrics(
        m.cpu_percent, m.cpu_count, m.load, m.memory, m.swap, m.uptime_seconds, (empty,), ()
    )
    assert assess(m, DEFAULTS).state is HostState.OK


def test_the_hosts_own_rules_set_the_levels() -> None:
    rules = RuleSet({"cpu.warning": 50.0, "cpu.critical": 70.0})
    warning = assess(metrics(cpu=55.0), rules)
    assert warning.state is HostState.WARNING
    assert warning.message == "CPU at 55% (limit 50%)"
    critical = assess(metrics(cpu=70.0), rules)
    assert critical.state is HostState.CRITICAL
    assert critical.message == "CPU at 70% (limit 70%)"
    assert assess(metrics(cpu=49.9), rules).state is HostState.OK
    assert assess(metrics(memory=60.0), rules).state is HostState.OK  # memory keeps its own


def test_each_metric_has_its_own_rule() -> None:
    rules = RuleSet({"disk.warning": 80.0, "disk.critical": 90.0, "memory.warning": 70.0})
    assert assess(metrics(disks={"/": 81.0}), rules).message == "disk / at 81% (limit 80%)"
    assert assess(metrics(disks={"/": 91.0}), rules).state is HostState.CRITICAL
    assert assess(metrics(memory=71.0), rules).problem is Problem.MEMORY_HIGH
    assert assess(metrics(cpu=81.0), rules).state is HostState.OK


def test_load_per_core_counts_as_the_load_rule_says() -> None:
    busy = metrics()
    busy = HostMetrics(
        busy.cpu_percent, 4, LoadAverage(12.0, 10.0, 9.0), busy.memory, busy.swap,
        busy.uptime_seconds, busy.disks, (),
    )  # fmt: skip
    result = assess(busy, DEFAULTS)  # 10 / 4 cores = 2.5 per core, warning from 2
    assert result.state is HostState.WARNING
    assert result.problem is Problem.LOAD_HIGH
    assert result.message == "load at 2.50 per core (limit 2.00 per core)"
    assert assess(busy, RuleSet({"load.warning": 3.0})).state is HostState.OK


def test_the_containers_rule_off_leaves_docker_out_of_the_state() -> None:
    crash = ContainerIncident(
        IncidentKind.CRASHED, True, 100, "abc", "shop-web", "shop", "shop-web crashed"
    )
    report = DockerReport(containers=(), changes=(crash,), open=(crash,))
    found = assess_docker(report, DEFAULTS)
    assert found is not None
    assert found.state is HostState.CRITICAL
    assert assess_docker(report, RuleSet({"containers": 0.0})) is None


def test_state_severity_order() -> None:
    ordered = sorted(HostState, key=lambda s: s.severity)
    assert ordered == [
        HostState.OK,
        HostState.UNKNOWN,
        HostState.WARNING,
        HostState.UNREACHABLE,
        HostState.CRITICAL,
    ]


def test_every_connection_problem_has_a_state() -> None:
    assessed_problems = {
        Problem.LOAD_HIGH,
        Problem.CPU_HIGH,
        Problem.MEMORY_HIGH,
        Problem.DISK_HIGH,
        Problem.CONTAINER_INCIDENT,
        Problem.DOCKER_UNAVAILABLE,
        Problem.DOCKER_PERMISSION_DENIED,
    }
    assert set(CONNECTION_PROBLEM_STATES) == set(Problem) - assessed_problems
    assert CONNECTION_PROBLEM_STATES[Problem.TIMEOUT] is HostState.UNREACHABLE
    assert CONNECTION_PROBLEM_STATES[Problem.UNREACHABLE] is HostState.UNREACHABLE
    assert CONNECTION_PROBLEM_STATES[Problem.AUTH_FAILED] is HostState.CRITICAL
    assert CONNECTION_PROBLEM_STATES[Problem.HOST_KEY_MISMATCH] is HostState.CRITICAL
    assert CONNECTION_PROBLEM_STATES[Problem.PARSE_ERROR] is HostState.UNKNOWN


@settings(max_examples=200, deadline=None)
@given(
    cpu=st.one_of(st.none(), st.floats(0, 100)),
    memory=st.floats(0, 100),
    disks=st.lists(st.floats(0, 100), max_size=4),
)
def test_assess_state_is_the_worst_single_reading(
    cpu: float | None, memory: float, disks: list[float]
) -> None:
    m = metrics(cpu=cpu, memory=memory, disks={f"/d{i}": p for i, p in enumerate(disks)})
    values = [m.memory.percent, *(d.percent for d in m.disks)]
    if cpu is not None:
        values.append(cpu)
    top = max(values)
    expected = HostState.CRITICAL if top >= 95 else HostState.WARNING if top >= 85 else HostState.OK
    assert assess(m, DEFAULTS).state is expected


# --------------------------------------------------------------------------- cpu_percent_between


def test_cpu_times_totals() -> None:
    t = CpuTimes(user=1, nice=2, system=3, idle=4, iowait=5, irq=6, softirq=7, steal=8)
    assert t.total == 36
    assert t.idle_all == 9
    assert CpuTimes(user=1, nice=2, system=3, idle=4).total == 10


def test_cpu_percent_between_basic() -> None:
    before = CpuTimes(user=100, nice=0, system=100, idle=800)
    after = CpuTimes(user=200, nice=0, system=150, idle=1050)
    # total +400, idle +250 -> busy 150/400
    assert cpu_percent_between(before, after) == 37.5


def test_iowait_counts_as_idle_and_steal_as_busy() -> None:
    before = CpuTimes(0, 0, 0, 0, iowait=0, steal=0)
    after = CpuTimes(user=50, nice=0, system=0, idle=50, iowait=50, steal=50)
    # total 200, idle (idle+iowait) 100
    assert cpu_percent_between(before, after) == 50.0


def test_cpu_percent_is_rounded_to_two_decimals() -> None:
    before = CpuTimes(0, 0, 0, 0)
    after = CpuTimes(user=2, nice=0, system=0, idle=1)
    assert cpu_percent_between(before, after) == 66.67


def test_cpu_percent_extremes() -> None:
    start = CpuTimes(10, 10, 10, 10)
    assert cpu_percent_between(start, CpuTimes(10, 10, 10, 110)) == 0.0
    assert cpu_percent_between(start, CpuTimes(60, 20, 50, 10)) == 100.0


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (CpuTimes(100, 0, 100, 800), CpuTimes(100, 0, 100, 800)),  # no advance
        (CpuTimes(100, 0, 100, 800), CpuTimes(10, 0, 10, 80)),  # reboot: all went back
        (CpuTimes(100, 0, 100, 800), CpuTimes(300, 0, 100, 700)),  # idle went back
        (CpuTimes(100, 0, 100, 800), CpuTimes(50, 0, 100, 900)),  # idle grew more than total
    ],
    ids=["unchanged", "reboot", "idle-backwards", "idle-exceeds-total"],
)
def test_cpu_percent_none_when_counters_do_not_advance(before: CpuTimes, after: CpuTimes) -> None:
    assert cpu_percent_between(before, after) is None


_ticks = st.integers(min_value=0, max_value=10**12)


@settings(max_examples=300, deadline=None)
@given(
    before=st.builds(CpuTimes, _ticks, _ticks, _ticks, _ticks, _ticks, _ticks, _ticks, _ticks),
    after=st.builds(CpuTimes, _ticks, _ticks, _ticks, _ticks, _ticks, _ticks, _ticks, _ticks),
)
def test_cpu_percent_is_none_or_a_percentage(before: CpuTimes, after: CpuTimes) -> None:
    value = cpu_percent_between(before, after)
    if value is None:
        return
    assert 0.0 <= value <= 100.0
    assert after.total > before.total


def test_cpu_percent_comes_from_the_polls_own_samples_before_the_previous_poll() -> None:
    own = replace(
        metrics(cpu=None),
        cpu_times=CpuTimes(user=200, nice=0, system=150, idle=1050),
        cpu_times_previous=CpuTimes(user=100, nice=0, system=100, idle=800),
    )
    assert with_cpu_percent(own, CpuTimes(0, 0, 0, 0)).cpu_percent == 37.5
    later = replace(own, cpu_times_previous=None)
    assert with_cpu_percent(later, CpuTimes(user=0, nice=0, system=150, idle=1050)) == replace(
        later, cpu_percent=100.0
    )
    assert with_cpu_percent(later, None).cpu_percent is None  # the first sample of all
    assert with_cpu_percent(metrics(cpu=12.0), CpuTimes(0, 0, 0, 0)).cpu_percent == 12.0


# --------------------------------------------------------------------------- memory / swap / disk


def test_memory_used_and_percent() -> None:
    m = MemoryUsage(total_bytes=8 * GIB, available_bytes=2 * GIB)
    assert m.used_bytes == 6 * GIB
    assert m.percent == 75.0


def test_memory_available_above_total_clamps_to_zero() -> None:
    m = MemoryUsage(total_bytes=100, available_bytes=150)
    assert m.used_bytes == 0
    assert m.percent == 0.0


def test_memory_zero_total_is_zero_percent() -> None:
    assert MemoryUsage(0, 0).percent == 0.0


def test_swap_used() -> None:
    assert SwapUsage(total_bytes=4 * GIB, free_bytes=3 * GIB).used_bytes == GIB
    assert SwapUsage(total_bytes=0, free_bytes=0).used_bytes == 0
    assert SwapUsage(total_bytes=10, free_bytes=20).used_bytes == 0


def test_disk_percent_counts_reserved_blocks_as_full() -> None:
    # 100 GiB filesystem, 5 GiB reserved for root: used 90, available 5.
    disk = DiskUsage("/", "ext4", 100 * GIB, 90 * GIB, 5 * GIB)
    assert disk.percent == pytest.approx(100 * 90 / 95)
    assert disk.percent != pytest.approx(90.0)


def test_disk_percent_simple_and_empty() -> None:
    assert DiskUsage("/", "xfs", 200, 50, 150).percent == 25.0
    assert DiskUsage("/", "xfs", 200, 200, 0).percent == 100.0
    assert DiskUsage("/", "xfs", 0, 0, 0).percent == 0.0


def test_worst_of_keeps_the_more_severe_and_mentions_the_other() -> None:
    cpu = Assessment(HostState.WARNING, Problem.CPU_HIGH, "CPU at 88% (limit 85%)")
    docker = Assessment(HostState.WARNING, Problem.DOCKER_PERMISSION_DENIED, "socket denied")
    crash = Assessment(HostState.CRITICAL, Problem.CONTAINER_INCIDENT, "web crashed")
    ok = Assessment(HostState.OK, None, "All good")
    assert worst_of(cpu, None) is cpu
    assert worst_of(ok, docker) == docker
    assert worst_of(cpu, ok) == cpu
    tie = worst_of(cpu, docker)
    assert (tie.state, tie.problem) == (HostState.WARNING, Problem.DOCKER_PERMISSION_DENIED)
    assert tie.message == "socket denied; also CPU at 88% (limit 85%)"
    worse = worst_of(crash, cpu)
    assert (worse.problem, worse.message) == (
        Problem.CONTAINER_INCIDENT,
        "web crashed; also CPU at 88% (limit 85%)",
    )

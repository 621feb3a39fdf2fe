"""Host conditions poll after poll: thresholds with durations and hysteresis, load per core,
disks per mount, unreachable after N failed polls, host key mismatch, restore, timers after a
sleep, the disk-full forecast, and container incidents as condition changes."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.alert_builders import CRITICAL, HOUR, MINUTE, T0, WARNING, failed, metrics, ok
from vpshealth.domain.alert_conditions import (
    CONTAINER_RULES,
    FORECAST_RECOVERY_FACTOR,
    ConditionChange,
    ConditionKey,
    HostConditions,
    _forecast_level,
    from_container_incident,
)
from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.containers import ContainerIncident, IncidentKind, Severity
from vpshealth.domain.health import CheckResult, Problem
from vpshealth.domain.metrics import HostMetrics

RULES = RuleSet()

Brief = tuple[str, str, Severity | None, int]


def brief(changes: Iterable[ConditionChange]) -> list[Brief]:
    return [(c.rule, c.subject, c.severity, c.at) for c in changes]


def run(
    conditions: HostConditions,
    polls: Iterable[tuple[int, HostMetrics]],
    rules: RuleSet = RULES,
) -> list[ConditionChange]:
    changes: list[ConditionChange] = []
    for at, host_metrics in polls:
        changes += conditions.observe(ok(at, host_metrics), rules)
    return changes


def minutely(start: int, count: int, host_metrics: HostMetrics) -> list[tuple[int, HostMetrics]]:
    """``count`` polls one minute apart from ``start``, all with the same metrics."""
    return [(start + i * MINUTE, host_metrics) for i in range(count)]


def cpu(value: float | None) -> HostMetrics:
    return metrics(cpu=value)


# --- CPU: durations -----------------------------------------------------------------------


def test_cpu_above_warning_for_less_than_its_minutes_opens_nothing() -> None:
    c = HostConditions()
    assert run(c, minutely(T0, 5, cpu(90.0))) == []  # T0 .. T0+4 min
    assert c.active() == {}


def test_cpu_above_warning_for_its_minutes_opens_one_warning() -> None:
    c = HostConditions()
    changes = run(c, minutely(T0, 8, cpu(90.0)))
    assert changes == [
        ConditionChange(
            "cpu",
            "",
            WARNING,
            T0 + 5 * MINUTE,
            "CPU at 90% for 5 min (warning from 85%)",
            value=90.0,
            threshold=85.0,
            unit="%",
        )
    ]
    assert c.active() == {("cpu", ""): WARNING}


def test_cpu_threshold_is_inclusive() -> None:
    c = HostConditions()
    assert brief(run(c, minutely(T0, 6, cpu(85.0)))) == [("cpu", "", WARNING, T0 + 5 * MINUTE)]


def test_cpu_critical_after_its_own_duration_escalates() -> None:
    c = HostConditions()
    changes = run(c, minutely(T0, 6, cpu(90.0)))
    changes += run(c, minutely(T0 + 6 * MINUTE, 7, cpu(97.0)))
    assert brief(changes) == [
        ("cpu", "", WARNING, T0 + 5 * MINUTE),
        ("cpu", "", CRITICAL, T0 + 11 * MINUTE),
    ]
    assert changes[1].message == "CPU at 97% for 5 min (critical from 95%)"
    assert changes[1].threshold == 95.0
    assert c.active() == {("cpu", ""): CRITICAL}


def test_cpu_straight_to_critical_opens_critical_once() -> None:
    c = HostConditions()
    assert brief(run(c, minutely(T0, 10, cpu(99.0)))) == [("cpu", "", CRITICAL, T0 + 5 * MINUTE)]


def test_a_dip_below_the_threshold_restarts_the_duration() -> None:
    c = HostConditions()
    polls = minutely(T0, 4, cpu(90.0))  # T0 .. T0+3 min
    polls += [(T0 + 4 * MINUTE, cpu(70.0))]
    polls += minutely(T0 + 5 * MINUTE, 6, cpu(90.0))  # T0+5 .. T0+10 min
    assert brief(run(c, polls)) == [("cpu", "", WARNING, T0 + 10 * MINUTE)]


def test_a_dip_below_critical_restarts_only_the_critical_duration() -> None:
    c = HostConditions()
    polls = minutely(T0, 4, cpu(97.0))
    polls += [(T0 + 4 * MINUTE, cpu(90.0))]
    polls += minutely(T0 + 5 * MINUTE, 6, cpu(97.0))
    assert brief(run(c, polls)) == [
        ("cpu", "", WARNING, T0 + 5 * MINUTE),
        ("cpu", "", CRITICAL, T0 + 10 * MINUTE),
    ]


def test_cpu_minutes_zero_is_immediate() -> None:
    rules = RuleSet({"cpu.minutes": 0.0})
    c = HostConditions()
    changes = run(c, [(T0, cpu(90.0))], rules)
    assert brief(changes) == [("cpu", "", WARNING, T0)]
    assert changes[0].message == "CPU at 90% (warning from 85%)"


def test_missing_cpu_reading_changes_nothing() -> None:
    c = HostConditions()
    run(c, minutely(T0, 6, cpu(90.0)))
    assert run(c, minutely(T0 + 6 * MINUTE, 10, cpu(None))) == []
    assert c.active() == {("cpu", ""): WARNING}


# --- hysteresis ---------------------------------------------------------------------------


def open_cpu_warning(c: HostConditions) -> int:
    """Open a CPU warning; the time of the next poll."""
    assert brief(run(c, minutely(T0, 6, cpu(90.0)))) == [("cpu", "", WARNING, T0 + 5 * MINUTE)]
    return T0 + 6 * MINUTE


def test_within_the_hysteresis_band_it_stays_open() -> None:
    c = HostConditions()
    t = open_cpu_warning(c)
    # warning 85, hysteresis 5 %: recovers only below 80.75
    assert run(c, [(t, cpu(82.0)), (t + 60, cpu(80.8)), (t + 120, cpu(84.9))]) == []
    assert c.active() == {("cpu", ""): WARNING}


def test_below_the_hysteresis_band_it_resolves() -> None:
    c = HostConditions()
    t = open_cpu_warning(c)
    changes = run(c, [(t, cpu(82.0)), (t + 60, cpu(80.0)), (t + 120, cpu(10.0))])
    assert changes == [
        ConditionChange(
            "cpu",
            "",
            None,
            t + 60,
            "CPU back to 80% (below 81%)",
            value=80.0,
            threshold=pytest.approx(80.75),  # type: ignore[arg-type]
            unit="%",
        )
    ]
    assert c.active() == {}


def test_hysteresis_zero_resolves_just_below_the_threshold() -> None:
    rules = RuleSet({"hysteresis": 0.0})
    c = HostConditions()
    run(c, minutely(T0, 6, cpu(90.0)), rules)
    assert run(c, [(T0 + 6 * MINUTE, cpu(85.0))], rules) == []
    assert brief(run(c, [(T0 + 7 * MINUTE, cpu(84.9))], rules)) == [
        ("cpu", "", None, T0 + 7 * MINUTE)
    ]


def test_wider_hysteresis() -> None:
    rules = RuleSet({"hysteresis": 20.0})  # 85 * 0.8 = 68
    c = HostConditions()
    run(c, minutely(T0, 6, cpu(90.0)), rules)
    assert run(c, [(T0 + 6 * MINUTE, cpu(68.5))], rules) == []
    assert brief(run(c, [(T0 + 7 * MINUTE, cpu(67.5))], rules)) == [
        ("cpu", "", None, T0 + 7 * MINUTE)
    ]


def test_critical_downgrades_to_warning_below_the_critical_band() -> None:
    c = HostConditions()
    assert brief(run(c, minutely(T0, 6, cpu(97.0)))) == [("cpu", "", CRITICAL, T0 + 5 * MINUTE)]
    t = T0 + 6 * MINUTE
    # critical 95, hysteresis 5 %: the critical band reaches down to 90.25
    assert run(c, [(t, cpu(92.0)), (t + 60, cpu(90.5))]) == []
    assert c.active() == {("cpu", ""): CRITICAL}
    down = run(c, [(t + 120, cpu(88.0))])
    assert brief(down) == [("cpu", "", WARNING, t + 120)]
    assert down[0].message == "CPU at 88% for 5 min (warning from 85%)"
    assert down[0].threshold == 85.0
    assert brief(run(c, [(t + 180, cpu(82.0)), (t + 240, cpu(70.0))])) == [
        ("cpu", "", None, t + 240)
    ]


def test_critical_straight_to_resolved_below_both_bands() -> None:
    c = HostConditions()
    run(c, minutely(T0, 6, cpu(97.0)))
    assert brief(run(c, [(T0 + 6 * MINUTE, cpu(20.0))])) == [("cpu", "", None, T0 + 6 * MINUTE)]


def test_rising_again_inside_the_band_does_not_reopen() -> None:
    c = HostConditions()
    t = open_cpu_warning(c)
    polls = [(t, cpu(82.0)), *minutely(t + 60, 10, cpu(90.0))]
    assert run(c, polls) == []


# --- memory, load, disks ------------------------------------------------------------------


def test_memory_warning_after_its_minutes() -> None:
    c = HostConditions()
    changes = run(c, minutely(T0, 6, metrics(memory=90.0)))
    assert brief(changes) == [("memory", "", WARNING, T0 + 5 * MINUTE)]
    assert changes[0].message == "memory at 90% for 5 min (warning from 85%)"
    assert changes[0].value == pytest.approx(90.0)


def test_memory_resolves_with_hysteresis() -> None:
    c = HostConditions()
    run(c, minutely(T0, 6, metrics(memory=96.0)))
    assert c.active() == {("memory", ""): CRITICAL}
    t = T0 + 6 * MINUTE
    assert brief(run(c, [(t, metrics(memory=91.0)), (t + 60, metrics(memory=50.0))])) == [
        ("memory", "", None, t + 60)
    ]


def test_load_is_per_core() -> None:
    c = HostConditions()
    changes = run(c, minutely(T0, 11, metrics(load5=5.0, cpus=2)))  # 2.5 per core
    assert changes == [
        ConditionChange(
            "load",
            "",
            WARNING,
            T0 + 10 * MINUTE,
            "load at 2.50 per core for 10 min (warning from 2.00 per core)",
            value=2.5,
            threshold=2.0,
            unit="per core",
        )
    ]


def test_the_same_load_on_more_cores_is_fine() -> None:
    c = HostConditions()
    assert run(c, minutely(T0, 20, metrics(load5=5.0, cpus=4))) == []  # 1.25 per core


def test_load_critical_per_core() -> None:
    c = HostConditions()
    changes = run(c, minutely(T0, 11, metrics(load5=9.0, cpus=2)))  # 4.5 per core
    assert brief(changes) == [("load", "", CRITICAL, T0 + 10 * MINUTE)]


def test_load_with_no_cpu_count_counts_one_core() -> None:
    c = HostConditions()
    assert brief(run(c, minutely(T0, 11, metrics(load5=2.5, cpus=0)))) == [
        ("load", "", WARNING, T0 + 10 * MINUTE)
    ]


def test_disk_is_immediate_and_per_mount() -> None:
    c = HostConditions()
    changes = run(c, [(T0, metrics(disks={"/": 50.0, "/var": 90.0, "/srv": 96.0}))])
    assert sorted(brief(changes)) == [
        ("disk", "/srv", CRITICAL, T0),
        ("disk", "/var", WARNING, T0),
    ]
    var = next(ch for ch in changes if ch.subject == "/var")
    assert var.message == "disk /var at 90% (warning from 85%)"
    assert c.active() == {("disk", "/var"): WARNING, ("disk", "/srv"): CRITICAL}


def test_disk_hysteresis_and_recovery() -> None:
    c = HostConditions()
    run(c, [(T0, metrics(disks={"/var": 90.0}))])
    assert run(c, [(T0 + 60, metrics(disks={"/var": 81.0}))]) == []
    changes = run(c, [(T0 + 120, metrics(disks={"/var": 79.0}))])
    assert brief(changes) == [("disk", "/var", None, T0 + 120)]
    assert changes[0].message == "disk /var back to 79% (below 81%)"


def test_an_unmounted_disk_resolves() -> None:
    c = HostConditions()
    run(c, [(T0, metrics(disks={"/": 50.0, "/mnt/backup": 97.0}))])
    changes = run(c, [(T0 + 60, metrics(disks={"/": 50.0}))])
    assert changes == [
        ConditionChange("disk", "/mnt/backup", None, T0 + 60, "/mnt/backup is no longer mounted")
    ]
    assert c.active() == {}
    assert run(c, [(T0 + 120, metrics(disks={"/": 50.0}))]) == []


def test_a_remounted_full_disk_opens_again() -> None:
    c = HostConditions()
    run(c, [(T0, metrics(disks={"/mnt": 97.0}))])
    run(c, [(T0 + 60, metrics(disks={}))])
    assert brief(run(c, [(T0 + 120, metrics(disks={"/mnt": 97.0}))])) == [
        ("disk", "/mnt", CRITICAL, T0 + 120)
    ]


def test_custom_thresholds_apply() -> None:
    rules = RuleSet({"disk.warning": 50.0, "disk.critical": 60.0})
    c = HostConditions()
    assert brief(run(c, [(T0, metrics(disks={"/": 55.0}))], rules)) == [("disk", "/", WARNING, T0)]


# --- unreachable --------------------------------------------------------------------------


def observe_all(c: HostConditions, results: Iterable[CheckResult]) -> list[ConditionChange]:
    changes: list[ConditionChange] = []
    for result in results:
        changes += c.observe(result, RULES)
    return changes


def test_unreachable_only_after_the_configured_failed_polls() -> None:
    c = HostConditions()
    assert observe_all(c, [failed(T0), failed(T0 + 60)]) == []
    changes = c.observe(failed(T0 + 120), RULES)
    assert changes == [
        ConditionChange(
            "unreachable",
            "",
            CRITICAL,
            T0 + 120,
            "connection refused (3 checks in a row)",
            value=3,
            threshold=3,
            unit="failed checks",
        )
    ]
    assert observe_all(c, [failed(T0 + 180), failed(T0 + 240)]) == []
    assert c.active() == {("unreachable", ""): CRITICAL}


def test_success_resolves_unreachable_with_one_change() -> None:
    c = HostConditions()
    observe_all(c, [failed(T0 + i * 60) for i in range(4)])
    changes = c.observe(ok(T0 + 300), RULES)
    assert changes == [
        ConditionChange(
            "unreachable",
            "",
            None,
            T0 + 300,
            "answering again after 4 failed checks",
            value=0,
            unit="failed checks",
        )
    ]
    assert c.active() == {}
    assert c.observe(ok(T0 + 360), RULES) == []


@pytest.mark.parametrize(
    "problem",
    [
        Problem.UNREACHABLE,
        Problem.TIMEOUT,
        Problem.AUTH_FAILED,
        Problem.KEY_MISSING,
        Problem.HOST_KEY_NOT_TRUSTED,
    ],
)
def test_connection_failures_count(problem: Problem) -> None:
    c = HostConditions()
    changes = observe_all(c, [failed(T0 + i * 60, problem, "no") for i in range(3)])
    assert brief(changes) == [("unreachable", "", CRITICAL, T0 + 120)]


@pytest.mark.parametrize(
    "problem", [Problem.PARSE_ERROR, Problem.COMMAND_FAILED, Problem.KEYRING_UNAVAILABLE]
)
def test_other_failures_do_not_count(problem: Problem) -> None:
    c = HostConditions()
    assert observe_all(c, [failed(T0 + i * 60, problem, "odd") for i in range(10)]) == []
    assert c.active() == {}


def test_a_parse_error_means_it_answered_and_restarts_the_count() -> None:
    c = HostConditions()
    results = [failed(T0), failed(T0 + 60), failed(T0 + 120, Problem.PARSE_ERROR, "garbled")]
    assert observe_all(c, results) == []
    assert observe_all(c, [failed(T0 + 180), failed(T0 + 240)]) == []
    assert brief(c.observe(failed(T0 + 300), RULES)) == [("unreachable", "", CRITICAL, T0 + 300)]


def test_a_parse_error_resolves_unreachable_because_the_host_answered() -> None:
    c = HostConditions()
    observe_all(c, [failed(T0 + i * 60) for i in range(3)])
    changes = c.observe(failed(T0 + 180, Problem.PARSE_ERROR, "garbled"), RULES)
    assert brief(changes) == [("unreachable", "", None, T0 + 180)]
    assert c.active() == {}


def test_a_success_restarts_the_count() -> None:
    c = HostConditions()
    results = [failed(T0), failed(T0 + 60), ok(T0 + 120), failed(T0 + 180), failed(T0 + 240)]
    assert observe_all(c, results) == []
    assert brief(c.observe(failed(T0 + 300), RULES)) == [("unreachable", "", CRITICAL, T0 + 300)]


def test_unreachable_polls_rule() -> None:
    c = HostConditions()
    rules = RuleSet({"unreachable.polls": 1.0})
    assert brief(c.observe(failed(T0), rules)) == [("unreachable", "", CRITICAL, T0)]


def test_failures_leave_threshold_conditions_alone() -> None:
    c = HostConditions()
    run(c, [(T0, metrics(disks={"/": 97.0}))])
    changes = observe_all(c, [failed(T0 + i * 60) for i in range(1, 4)])
    assert brief(changes) == [("unreachable", "", CRITICAL, T0 + 180)]
    assert c.active() == {("disk", "/"): CRITICAL, ("unreachable", ""): CRITICAL}


# --- host key -----------------------------------------------------------------------------


def test_host_key_mismatch_is_immediately_critical() -> None:
    c = HostConditions()
    mismatch = failed(T0, Problem.HOST_KEY_MISMATCH, "the host key changed")
    assert c.observe(mismatch, RULES) == [
        ConditionChange("host_key", "", CRITICAL, T0, "the host key changed")
    ]
    assert c.observe(failed(T0 + 60, Problem.HOST_KEY_MISMATCH, "again"), RULES) == []
    assert c.active() == {("host_key", ""): CRITICAL}


def test_host_key_mismatch_resolved_by_the_next_good_poll() -> None:
    c = HostConditions()
    c.observe(failed(T0, Problem.HOST_KEY_MISMATCH, "changed"), RULES)
    assert c.observe(failed(T0 + 60), RULES) == []  # still not a good poll
    assert c.observe(ok(T0 + 120), RULES) == [
        ConditionChange("host_key", "", None, T0 + 120, "the host key matches again")
    ]
    assert c.active() == {}


def test_host_key_mismatch_does_not_count_as_a_failed_poll() -> None:
    c = HostConditions()
    results = [failed(T0), failed(T0 + 60, Problem.HOST_KEY_MISMATCH, "changed")]
    results += [failed(T0 + 120)]
    assert brief(observe_all(c, results)) == [("host_key", "", CRITICAL, T0 + 60)]


# --- restore and timers -------------------------------------------------------------------


def test_restore_continues_without_reopening() -> None:
    c = HostConditions()
    c.restore({("cpu", ""): WARNING, ("disk", "/var"): CRITICAL})
    assert c.active() == {("cpu", ""): WARNING, ("disk", "/var"): CRITICAL}
    polls = minutely(T0, 3, metrics(cpu=90.0, disks={"/var": 97.0}))
    polls += [(T0 + 3 * MINUTE, metrics(cpu=82.0, disks={"/var": 92.0}))]
    assert run(c, polls) == []
    assert brief(run(c, [(T0 + 4 * MINUTE, metrics(cpu=50.0, disks={"/var": 50.0}))])) == [
        ("cpu", "", None, T0 + 4 * MINUTE),
        ("disk", "/var", None, T0 + 4 * MINUTE),
    ]


def test_restored_warning_escalates_after_the_critical_duration() -> None:
    c = HostConditions()
    c.restore({("cpu", ""): WARNING})
    assert brief(run(c, minutely(T0, 6, cpu(97.0)))) == [("cpu", "", CRITICAL, T0 + 5 * MINUTE)]


def test_restore_unreachable_and_host_key() -> None:
    c = HostConditions()
    c.restore({("unreachable", ""): CRITICAL, ("host_key", ""): CRITICAL})
    assert c.observe(failed(T0), RULES) == []
    assert c.observe(failed(T0 + 60, Problem.HOST_KEY_MISMATCH, "changed"), RULES) == []
    assert brief(c.observe(ok(T0 + 120), RULES)) == [
        ("unreachable", "", None, T0 + 120),
        ("host_key", "", None, T0 + 120),
    ]


def test_restored_unreachable_answering_at_once() -> None:
    c = HostConditions()
    c.restore({("unreachable", ""): CRITICAL})
    changes = c.observe(ok(T0), RULES)
    # the failed checks before the restart were not counted: no "after 0 failed checks"
    assert [(ch.severity, ch.message) for ch in changes] == [(None, "answering again")]


def test_restore_ignores_container_rules() -> None:
    c = HostConditions()
    c.restore({("crashed", "web"): CRITICAL, ("cpu", ""): WARNING})
    assert c.active() == {("cpu", ""): WARNING}


def test_restart_timers_restarts_durations_but_keeps_what_is_open() -> None:
    c = HostConditions()
    run(c, minutely(T0, 4, cpu(90.0)))  # 3 minutes of the 5
    c.restart_timers()
    assert run(c, minutely(T0 + 4 * MINUTE, 5, cpu(90.0))) == []  # would have opened at 5 min
    assert brief(run(c, [(T0 + 9 * MINUTE, cpu(90.0))])) == [("cpu", "", WARNING, T0 + 9 * MINUTE)]
    run(c, minutely(T0 + 10 * MINUTE, 3, cpu(97.0)))
    c.restart_timers()
    assert run(c, minutely(T0 + 13 * MINUTE, 5, cpu(97.0))) == []
    assert c.active() == {("cpu", ""): WARNING}
    assert brief(run(c, [(T0 + 18 * MINUTE, cpu(97.0))])) == [
        ("cpu", "", CRITICAL, T0 + 18 * MINUTE)
    ]


# --- disk forecast ------------------------------------------------------------------------

FIVE_MINUTES = 300


def filling(
    c: HostConditions,
    start: float,
    per_hour: float,
    hours: float,
    *,
    t0: int = T0,
    rules: RuleSet = RULES,
    mount: str = "/data",
) -> list[ConditionChange]:
    """Polls every 5 minutes of a disk rising ``per_hour`` points; only forecast changes."""
    changes: list[ConditionChange] = []
    for i in range(round(hours * 12) + 1):
        percent = start + per_hour * i / 12
        changes += c.observe(ok(t0 + i * FIVE_MINUTES, metrics(disks={mount: percent})), rules)
    return [ch for ch in changes if ch.rule == "disk_forecast"]


def test_steady_rise_warns_then_turns_critical_then_leaves_it_to_the_disk_rule() -> None:
    c = HostConditions()
    # 60.1 % rising 2 %/h: after an hour 62.1 %, full in 18.95 h; within 4 h from 92.1 %
    # (16 h in); at 95.1 % (17.5 h in) the disk rule itself is critical.
    changes = filling(c, 60.1, 2.0, 18)
    assert brief(changes) == [
        ("disk_forecast", "/data", WARNING, T0 + HOUR),
        ("disk_forecast", "/data", CRITICAL, T0 + 16 * HOUR),
        ("disk_forecast", "/data", None, T0 + 17 * HOUR + 30 * MINUTE),
    ]
    warning, critical, _ = changes
    assert warning.value == pytest.approx(19.0, abs=0.051)
    assert warning.threshold == 24
    assert warning.unit == "h"
    assert warning.message == (
        "/data at 62% will be full in about 19 h at the current rate (warning within 24 h)"
    )
    assert critical.value == pytest.approx(3.95, abs=0.051)
    assert critical.threshold == 4
    assert critical.message == (
        "/data at 92% will be full in about 4 h at the current rate (critical within 4 h)"
    )


def test_forecast_needs_an_hour_of_samples() -> None:
    c = HostConditions()
    assert filling(c, 50.0, 10.0, 55 / 60) == []
    assert c.active() == {}


def test_one_spike_forecasts_nothing() -> None:
    c = HostConditions()
    changes: list[ConditionChange] = []
    for i in range(6 * 12 + 1):
        percent = 84.0 if i == 30 else 50.0
        changes += c.observe(ok(T0 + i * FIVE_MINUTES, metrics(disks={"/": percent})), RULES)
    assert changes == []


@pytest.mark.parametrize("per_hour", [0.0, -1.0, -5.0])
def test_flat_or_falling_forecasts_nothing(per_hour: float) -> None:
    c = HostConditions()
    assert filling(c, 80.0, per_hour, 6) == []


def test_a_slow_rise_beyond_the_horizon_forecasts_nothing() -> None:
    c = HostConditions()
    assert filling(c, 40.0, 1.0, 4) == []  # 56 h to go and more


def test_already_above_disk_critical_no_forecast() -> None:
    c = HostConditions()
    changes = filling(c, 95.5, 0.5, 3)
    assert changes == []
    assert c.active() == {("disk", "/data"): CRITICAL}


def test_forecast_off() -> None:
    rules = RuleSet({"disk_forecast.hours": 0.0, "disk_forecast.critical_hours": 0.0})
    assert filling(HostConditions(), 60.0, 5.0, 6, rules=rules) == []


def test_forecast_critical_only() -> None:
    rules = RuleSet({"disk_forecast.hours": 0.0})
    changes = filling(HostConditions(), 60.1, 2.0, 16, rules=rules)
    assert brief(changes) == [("disk_forecast", "/data", CRITICAL, T0 + 16 * HOUR)]


def test_forecast_recovers_when_the_rise_stops() -> None:
    c = HostConditions()
    changes = filling(c, 60.1, 2.0, 2)
    assert brief(changes) == [("disk_forecast", "/data", WARNING, T0 + HOUR)]
    t = T0 + 2 * HOUR + FIVE_MINUTES
    later: list[ConditionChange] = []
    for i in range(7 * 12):
        later += c.observe(ok(t + i * FIVE_MINUTES, metrics(disks={"/data": 50.0})), RULES)
    resolved = [ch for ch in later if ch.rule == "disk_forecast"]
    assert [(ch.severity, ch.message) for ch in resolved] == [
        (None, "/data is no longer filling up fast")
    ]
    assert ("disk_forecast", "/data") not in c.active()


def test_forecast_of_an_unmounted_disk_resolves() -> None:
    c = HostConditions()
    filling(c, 60.1, 2.0, 2)
    changes = c.observe(ok(T0 + 3 * HOUR, metrics(disks={"/": 40.0})), RULES)
    assert changes == [
        ConditionChange("disk_forecast", "/data", None, T0 + 3 * HOUR, "/data is no longer mounted")
    ]
    assert c.active() == {}
    assert c.trends.keys() == {"/"}


def test_restored_forecast_is_held_until_the_trend_can_judge() -> None:
    c = HostConditions()
    c.restore({("disk_forecast", "/data"): WARNING})
    # Less than an hour of samples: nothing to judge by, so the forecast stays open...
    assert filling(c, 70.0, 0.0, 55 / 60) == []
    assert c.active() == {("disk_forecast", "/data"): WARNING}
    # ...and resolves once a flat hour shows the disk is not filling up.
    changes = filling(c, 70.0, 0.0, 1, t0=T0 + HOUR)
    assert brief(changes) == [("disk_forecast", "/data", None, T0 + HOUR)]


def test_restored_forecast_continues_a_rise_without_reopening() -> None:
    c = HostConditions()
    c.restore({("disk_forecast", "/data"): WARNING})
    assert filling(c, 60.1, 2.0, 3) == []
    assert c.active() == {("disk_forecast", "/data"): WARNING}


def test_restored_forecast_of_a_gone_mount_resolves() -> None:
    c = HostConditions()
    c.restore({("disk_forecast", "/old"): WARNING})
    changes = c.observe(ok(T0, metrics(disks={"/": 40.0})), RULES)
    assert brief(changes) == [("disk_forecast", "/old", None, T0)]
    assert c.active() == {}


def test_restart_timers_keeps_an_open_forecast() -> None:
    c = HostConditions()
    filling(c, 60.1, 2.0, 2)
    c.restart_timers()
    assert c.trends == {}
    changes = filling(c, 64.5, 2.0, 2, t0=T0 + 3 * HOUR)
    assert changes == []
    assert c.active() == {("disk_forecast", "/data"): WARNING}


def test_forecast_disk_above_critical_resolves_the_forecast() -> None:
    c = HostConditions()
    filling(c, 60.1, 2.0, 2)
    changes = c.observe(ok(T0 + 2 * HOUR + 300, metrics(disks={"/data": 96.0})), RULES)
    assert brief(changes) == [
        ("disk", "/data", CRITICAL, T0 + 2 * HOUR + 300),
        ("disk_forecast", "/data", None, T0 + 2 * HOUR + 300),
    ]


W, C = 24.0, 4.0
F = FORECAST_RECOVERY_FACTOR


@pytest.mark.parametrize(
    ("hours", "current", "expected"),
    [
        (None, None, None),
        (None, WARNING, None),
        (None, CRITICAL, None),
        (0.0, None, CRITICAL),
        (C, None, CRITICAL),
        (C + 0.01, None, WARNING),
        (W, None, WARNING),
        (W + 0.01, None, None),
        # recovery needs 1.5 times the limit
        (C * F, CRITICAL, CRITICAL),
        (C * F + 0.01, CRITICAL, WARNING),
        (C * F, WARNING, WARNING),
        (W * F, WARNING, WARNING),
        (W * F + 0.01, WARNING, None),
        (W * F, CRITICAL, WARNING),
        (W * F + 0.01, CRITICAL, None),
    ],
)
def test_forecast_levels_with_recovery_factor(
    hours: float | None, current: Severity | None, expected: Severity | None
) -> None:
    assert _forecast_level(hours, W, C, current) is expected


def test_forecast_levels_when_switched_off() -> None:
    assert _forecast_level(1.0, 0.0, 0.0, None) is None
    assert _forecast_level(1.0, 0.0, 4.0, None) is CRITICAL
    assert _forecast_level(5.0, 0.0, 4.0, CRITICAL) is CRITICAL
    assert _forecast_level(7.0, 0.0, 4.0, CRITICAL) is None
    assert _forecast_level(1.0, 24.0, 0.0, None) is WARNING


def test_forecast_hysteresis_through_conditions() -> None:
    # 2 %/h from 60.1: warning at 19 h to go. Slowing to 1.1 %/h puts "full" ~28-35 h
    # away: within 1.5 x 24 h it stays a warning.
    c = HostConditions()
    assert brief(filling(c, 60.1, 2.0, 1)) == [("disk_forecast", "/data", WARNING, T0 + HOUR)]
    t = T0 + HOUR + FIVE_MINUTES
    kept: list[ConditionChange] = []
    for i in range(6 * 12):
        percent = 62.1 + 1.1 * (i + 1) / 12
        kept += c.observe(ok(t + i * FIVE_MINUTES, metrics(disks={"/data": percent})), RULES)
    hours = c.trends["/data"].hours_until_full()
    assert hours is not None
    assert W < hours <= W * F
    assert [ch for ch in kept if ch.rule == "disk_forecast"] == []
    assert c.active() == {("disk_forecast", "/data"): WARNING}


# --- container incidents ------------------------------------------------------------------


def test_container_incident_maps_to_a_change() -> None:
    incident = ContainerIncident(
        IncidentKind.RESTART_LOOP, True, T0, "abc123", "shop-web", "shop / prod / web", "looping"
    )
    assert from_container_incident(incident) == ConditionChange(
        "restart_loop",
        "shop-web",
        CRITICAL,
        T0,
        "looping",
        app="shop / prod / web",
        container_id="abc123",
        container_name="shop-web",
    )


def test_resolved_container_incident_has_no_severity() -> None:
    incident = ContainerIncident(IncidentKind.UNHEALTHY, False, T0, "abc", "db", None, "healthy")
    change = from_container_incident(incident)
    assert change.severity is None
    assert change.key == ("unhealthy", "db")


def test_daemon_incident_subject_is_docker() -> None:
    incident = ContainerIncident(IncidentKind.DOCKER_UNAVAILABLE, True, T0, "", "", None, "down")
    change = from_container_incident(incident)
    assert change.key == ("docker_unavailable", "docker")
    assert change.severity is CRITICAL


def test_container_rules_are_the_incident_kinds() -> None:
    assert {kind.value for kind in IncidentKind} == CONTAINER_RULES
    assert not CONTAINER_RULES & {"cpu", "memory", "load", "disk", "disk_forecast"}
    assert not CONTAINER_RULES & {"unreachable", "host_key"}


# --- properties ---------------------------------------------------------------------------

_percent = st.floats(0, 100)
_metrics = st.builds(
    lambda cpu_value, memory, load5, cpus, disks: metrics(
        cpu=cpu_value, memory=memory, load5=load5, cpus=cpus, disks=disks
    ),
    st.one_of(st.none(), _percent),
    _percent,
    st.floats(0, 20),
    st.integers(0, 8),
    st.dictionaries(st.sampled_from(["/", "/var", "/srv"]), _percent, max_size=3),
)
_failure = st.sampled_from(
    [
        Problem.UNREACHABLE,
        Problem.TIMEOUT,
        Problem.AUTH_FAILED,
        Problem.PARSE_ERROR,
        Problem.COMMAND_FAILED,
        Problem.HOST_KEY_MISMATCH,
    ]
)
_step = st.one_of(
    st.tuples(st.just("ok"), st.integers(0, 900), _metrics),
    st.tuples(st.just("fail"), st.integers(0, 900), _failure),
    st.tuples(st.just("sleep"), st.just(0), st.none()),
    st.tuples(st.just("restart"), st.just(0), st.none()),
)
_rules = st.builds(
    lambda minutes, hysteresis, polls, hours: RuleSet(
        {
            "cpu.minutes": minutes,
            "memory.minutes": minutes,
            "load.minutes": minutes,
            "hysteresis": hysteresis,
            "unreachable.polls": polls,
            "disk_forecast.hours": hours,
        }
    ),
    st.sampled_from([0.0, 1.0, 5.0]),
    st.sampled_from([0.0, 5.0, 20.0]),
    st.sampled_from([1.0, 3.0]),
    st.sampled_from([0.0, 24.0, 720.0]),
)


@settings(max_examples=150, deadline=None)
@given(rules=_rules, steps=st.lists(_step, max_size=60))
def test_change_stream_reconstructs_the_active_conditions(
    rules: RuleSet, steps: list[tuple[str, int, object]]
) -> None:
    c = HostConditions()
    state: dict[ConditionKey, Severity] = {}
    now = T0
    for kind, gap, payload in steps:
        now += gap
        if kind == "sleep":
            c.restart_timers()
            continue
        if kind == "restart":  # the engine restarts and continues from the open incidents
            c = HostConditions()
            c.restore(state)
            assert c.active() == state
            continue
        if kind == "ok":
            assert isinstance(payload, HostMetrics)
            result = ok(now, payload)
        else:
            assert isinstance(payload, Problem)
            result = failed(now, payload, "down")
        changes = c.observe(result, rules)
        keys = [ch.key for ch in changes]
        assert len(keys) == len(set(keys)), changes  # one change per key and poll
        for ch in changes:
            assert ch.at == now
            if ch.severity is None:
                assert ch.key in state, f"resolved {ch.key} that was not open"
                del state[ch.key]
            else:
                assert state.get(ch.key) is not ch.severity, f"opened {ch.key} twice"
                state[ch.key] = ch.severity
        assert state == c.active()

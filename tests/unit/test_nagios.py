"""`check --nagios`: the status line, the performance data and the exit codes."""

from __future__ import annotations

import pytest

from tests.unit.alert_builders import metrics
from vpshealth.cli.nagios import NagiosCode, nagios_report, unknown
from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.health import CheckResult, HostState, Problem


def result(
    name: str = "web1",
    state: HostState = HostState.OK,
    message: str = "All good",
    *,
    disk: float = 40.0,
    reached: bool = True,
) -> CheckResult:
    return CheckResult(
        host_name=name,
        checked_at=1_800_000_000,
        state=state,
        problem=None if reached else Problem.UNREACHABLE,
        message=message,
        metrics=metrics(cpu=12.5, memory=30, load5=0.5, disks={"/": disk}) if reached else None,
        duration_ms=123,
    )


def test_a_warning_host_with_its_thresholds_in_the_perfdata() -> None:
    rules = RuleSet({"disk.warning": 80, "disk.critical": 90})
    report = nagios_report(
        [result(state=HostState.WARNING, message="disk / at 85% (limit 80%)", disk=85)],
        {"web1": rules},
    )
    assert report.code is NagiosCode.WARNING
    assert report.line == (
        "VPSHEALTH WARNING - web1: disk / at 85% (limit 80%) | 'cpu'=12.5%;85;95;0;100 "
        "'memory'=30%;85;95;0;100 'disk_/'=85%;80;90;0;100 'load'=0.25;2;4;0; 'duration'=0.12s;;;0;"
    )


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (HostState.OK, NagiosCode.OK),
        (HostState.WARNING, NagiosCode.WARNING),
        (HostState.CRITICAL, NagiosCode.CRITICAL),
        (HostState.UNREACHABLE, NagiosCode.CRITICAL),
        (HostState.UNKNOWN, NagiosCode.UNKNOWN),
    ],
)
def test_each_state_has_its_plugin_code(state: HostState, code: NagiosCode) -> None:
    report = nagios_report([result(state=state, reached=state is not HostState.UNREACHABLE)], {})
    assert report.code is code
    assert report.line.startswith(f"VPSHEALTH {code.name} - web1: ")
    assert int(code) == {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[code.name]


def test_an_unreachable_host_is_critical_without_metrics() -> None:
    down = result(state=HostState.UNREACHABLE, message="Connection refused", reached=False)
    report = nagios_report([down], {})
    assert report.line == "VPSHEALTH CRITICAL - web1: Connection refused | 'duration'=0.12s;;;0;"


def test_several_hosts_the_worst_first_and_labels_named_by_host() -> None:
    report = nagios_report(
        [
            result("web1"),
            result("db1", HostState.UNKNOWN, "could not read /proc"),
            result("web2", HostState.UNREACHABLE, "timed out", reached=False),
        ],
        {},
    )
    assert report.code is NagiosCode.CRITICAL
    summary, perfdata = report.line.split(" | ")
    assert summary == (
        "VPSHEALTH CRITICAL - web2: timed out; db1: could not read /proc; 1 of 3 hosts ok"
    )
    assert "'web1 disk_/'=40%;;;0;100" in perfdata
    assert "'web2 duration'=0.12s;;;0;" in perfdata


def test_a_message_stays_on_one_line_and_cannot_start_the_perfdata() -> None:
    report = unknown("bad\nthing | here")
    assert (report.code, report.line) == (
        NagiosCode.UNKNOWN,
        "VPSHEALTH UNKNOWN - bad thing / here",
    )

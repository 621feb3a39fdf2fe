"""The metric catalogue: every name, unit, title and rule is defined once, and what is derived
from it (series, rules, conditions, host state, incident titles) agrees with it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.test_secrets import MemoryKeyring
from vpshealth.app import build_core
from vpshealth.config import Settings
from vpshealth.domain.alert_conditions import RULE_UNITS
from vpshealth.domain.alert_rules import RULE_SPECS
from vpshealth.domain.health import Problem
from vpshealth.domain.metric_catalog import (
    DISK,
    LEVELLED,
    METRICS,
    Subject,
    readings,
    series_name,
    shown,
    subjects_in,
)
from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
)
from vpshealth.domain.series import flatten, resolve_metric
from vpshealth.engine.alert_manager import RULE_TITLES
from vpshealth.secrets import SecretStore


def sample() -> HostMetrics:
    return HostMetrics(
        cpu_percent=40.0,
        cpu_count=2,
        load=LoadAverage(1.0, 3.0, 2.0),
        memory=MemoryUsage(total_bytes=1000, available_bytes=250),
        swap=SwapUsage(0, 0),
        uptime_seconds=10.0,
        disks=(DiskUsage("/", "ext4", 100, 90, 10), DiskUsage("/var", "xfs", 100, 10, 90)),
        network=(NetworkCounters("eth0", 1, 2),),
    )


def test_names_and_series_keys_are_unique() -> None:
    names = [metric.name for metric in METRICS]
    keys = [series.key for metric in METRICS for series in metric.series]
    assert len(set(names)) == len(names)
    assert len(set(keys)) == len(keys)
    assert all(key.split(".")[0] in {*names, "net"} for key in keys)


@pytest.mark.parametrize(
    ("alias", "key"),
    [
        (alias, series.key)
        for metric in METRICS
        for series in metric.series
        for alias in series.aliases
    ],
)
def test_every_alias_names_its_series(alias: str, key: str) -> None:
    metric = next(m for m in METRICS if any(s.key == key for s in m.series))
    if metric.subject is Subject.HOST:
        assert resolve_metric(alias) == key
    else:
        assert resolve_metric(f"{alias}:/srv") == series_name(key, "/srv")


def test_every_metric_with_levels_has_its_rules_unit_problem_and_title() -> None:
    for metric in LEVELLED:
        assert metric.levels is not None
        for level in ("warning", "critical"):
            spec = RULE_SPECS[metric.rule(level)]
            assert spec.unit == metric.levels.unit
        assert (metric.rule("minutes") in RULE_SPECS) is (metric.levels.minutes is not None)
        assert RULE_UNITS[metric.name] == metric.levels.unit
        assert Problem(f"{metric.name}_high")
        assert metric.name in RULE_TITLES
    assert [m.name for m in LEVELLED] == ["cpu", "memory", "disk", "load"]


def test_readings_follow_the_catalogue() -> None:
    found = [(r.rule, r.subject, r.label, round(r.value, 2), r.unit) for r in readings(sample())]
    assert found == [
        ("cpu", "", "CPU", 40.0, "%"),
        ("memory", "", "memory", 75.0, "%"),
        ("disk", "/", "disk /", 90.0, "%"),
        ("disk", "/var", "disk /var", 10.0, "%"),
        ("load", "", "load", 1.5, "per core"),
    ]
    no_cpu = replace(sample(), cpu_percent=None)
    assert "cpu" not in {r.rule for r in readings(no_cpu)}
    assert "cpu.percent" not in dict(flatten(no_cpu))


def test_flatten_keys_each_subject_by_name() -> None:
    values = dict(flatten(sample()))
    assert values["disk.percent:/var"] == 10.0
    assert values["net.tx_bytes:eth0"] == 2.0
    assert values["load.5"] == 3.0
    assert subjects_in(values, "disk.percent") == ["/", "/var"]
    assert subjects_in(values, "disk") == []  # a key is matched whole
    assert DISK.series_name(DISK.series[0], "/mnt/a:b") == "disk.percent:/mnt/a:b"


def test_shown_values() -> None:
    assert shown(91.4, "%") == "91%"
    assert shown(2.5, "per core") == "2.50 per core"


def test_the_environments_percent_levels_start_the_percent_rules(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, warning_percent=80, critical_percent=90)
    core = build_core(settings, secrets=SecretStore(MemoryKeyring()))
    try:
        assert core.rule_base == {
            "cpu.warning": 80,
            "cpu.critical": 90,
            "memory.warning": 80,
            "memory.critical": 90,
            "disk.warning": 80,
            "disk.critical": 90,
        }
    finally:
        core.close()

"""The JSON shape of metrics (domain.metrics_json) and series names (domain.series)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
)
from vpshealth.domain.metrics_json import metrics_from_json, metrics_to_json
from vpshealth.domain.series import flatten, resolve_metric

_counter = st.integers(min_value=0, max_value=2**63 - 1)
_finite = st.floats(allow_nan=False, allow_infinity=False)
_non_negative = st.floats(min_value=0, allow_nan=False, allow_infinity=False)


@st.composite
def _swap(draw: st.DrawFn) -> SwapUsage:
    # The kernel never reports more free swap than total swap.
    total = draw(_counter)
    return SwapUsage(total_bytes=total, free_bytes=draw(st.integers(0, total)))


host_metrics = st.builds(
    HostMetrics,
    cpu_percent=st.one_of(st.none(), st.floats(0, 100)),
    cpu_count=st.integers(1, 4096),
    load=st.builds(LoadAverage, _non_negative, _non_negative, _non_negative),
    memory=st.builds(MemoryUsage, _counter, _counter),
    swap=_swap(),
    uptime_seconds=_non_negative,
    disks=st.lists(
        st.builds(DiskUsage, st.text(), st.text(), _counter, _counter, _counter), max_size=5
    ).map(tuple),
    network=st.lists(st.builds(NetworkCounters, st.text(), _counter, _counter), max_size=5).map(
        tuple
    ),
)


def sample_metrics(cpu: float | None = 12.5) -> HostMetrics:
    return HostMetrics(
        cpu_percent=cpu,
        cpu_count=4,
        load=LoadAverage(0.5, 0.75, 1.25),
        memory=MemoryUsage(total_bytes=8000, available_bytes=2000),
        swap=SwapUsage(total_bytes=1000, free_bytes=600),
        uptime_seconds=3600.5,
        disks=(
            DiskUsage("/", "ext4", 1000, 900, 50),
            DiskUsage("/data", "xfs", 4000, 1000, 3000),
        ),
        network=(NetworkCounters("eth0", 123, 456), NetworkCounters("wg0", 7, 8)),
    )


# --------------------------------------------------------------------------- metrics_json


def test_to_json_shape() -> None:
    assert metrics_to_json(sample_metrics()) == {
        "cpu_percent": 12.5,
        "cpu_count": 4,
        "load": [0.5, 0.75, 1.25],
        "memory": {"total_bytes": 8000, "available_bytes": 2000, "used_bytes": 6000},
        "swap": {"total_bytes": 1000, "used_bytes": 400},
        "uptime_seconds": 3600.5,
        "disks": [
            {
                "mount": "/",
                "fstype": "ext4",
                "total_bytes": 1000,
                "used_bytes": 900,
                "available_bytes": 50,
            },
            {
                "mount": "/data",
                "fstype": "xfs",
                "total_bytes": 4000,
                "used_bytes": 1000,
                "available_bytes": 3000,
            },
        ],
        "network": [
            {"interface": "eth0", "rx_bytes": 123, "tx_bytes": 456},
            {"interface": "wg0", "rx_bytes": 7, "tx_bytes": 8},
        ],
    }


def test_to_json_keeps_unknown_cpu_as_null() -> None:
    data = json.loads(json.dumps(metrics_to_json(sample_metrics(cpu=None))))
    assert data["cpu_percent"] is None
    assert metrics_from_json(data).cpu_percent is None


def test_round_trip_of_sample() -> None:
    original = sample_metrics()
    assert metrics_from_json(json.loads(json.dumps(metrics_to_json(original)))) == original


@settings(max_examples=300, deadline=None)
@given(original=host_metrics)
def test_round_trip_through_json_text(original: HostMetrics) -> None:
    text = json.dumps(metrics_to_json(original), separators=(",", ":"))
    restored = metrics_from_json(json.loads(text))
    assert restored == original
    assert isinstance(restored.disks, tuple)
    assert isinstance(restored.network, tuple)


def test_from_json_accepts_integers_for_floats() -> None:
    data = metrics_to_json(sample_metrics())
    data["cpu_percent"] = 50
    data["load"] = [1, 2, 3]
    data["uptime_seconds"] = 10
    restored = metrics_from_json(data)
    assert restored.cpu_percent == 50.0
    assert isinstance(restored.cpu_percent, float)
    assert restored.load == LoadAverage(1.0, 2.0, 3.0)
    assert isinstance(restored.uptime_seconds, float)


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda d: d.pop("memory"), KeyError),
        (lambda d: d.pop("cpu_percent"), KeyError),
        (lambda d: d["disks"][0].pop("mount"), KeyError),
        (lambda d: d.update(cpu_count="many"), ValueError),
        (lambda d: d.update(swap=None), TypeError),
    ],
    ids=["no-memory", "no-cpu", "disk-without-mount", "bad-cpu-count", "swap-null"],
)
def test_from_json_rejects_malformed(mutate: Any, error: type[Exception]) -> None:
    data = metrics_to_json(sample_metrics())
    mutate(data)
    with pytest.raises(error):
        metrics_from_json(data)


# --------------------------------------------------------------------------- flatten


def test_flatten_names_and_values() -> None:
    assert flatten(sample_metrics()) == [
        ("cpu.percent", 12.5),
        ("memory.percent", 75.0),
        ("memory.used_bytes", 6000.0),
        ("swap.used_bytes", 400.0),
        ("disk.percent:/", round(100 * 900 / 950, 2)),
        ("disk.used_bytes:/", 900.0),
        ("disk.percent:/data", 25.0),
        ("disk.used_bytes:/data", 1000.0),
        ("load.1", 0.5),
        ("load.5", 0.75),
        ("load.15", 1.25),
        ("net.rx_bytes:eth0", 123.0),
        ("net.tx_bytes:eth0", 456.0),
        ("net.rx_bytes:wg0", 7.0),
        ("net.tx_bytes:wg0", 8.0),
    ]


def test_flatten_rounds_percentages_to_two_decimals() -> None:
    m = sample_metrics()
    m = HostMetrics(
        m.cpu_percent,
        m.cpu_count,
        m.load,
        MemoryUsage(total_bytes=3, available_bytes=2),
        m.swap,
        m.uptime_seconds,
        (DiskUsage("/", "ext4", 3, 2, 1),),
        (),
    )
    values = dict(flatten(m))
    assert values["memory.percent"] == 33.33
    assert values["disk.percent:/"] == 66.67


def test_flatten_without_cpu_omits_the_cpu_series() -> None:
    names = [name for name, _ in flatten(sample_metrics(cpu=None))]
    assert "cpu.percent" not in names
    assert names[0] == "memory.percent"
    assert len(names) == 14


@settings(max_examples=200, deadline=None)
@given(original=host_metrics)
def test_flatten_properties(original: HostMetrics) -> None:
    values = flatten(original)
    names = [name for name, _ in values]
    expected_count = (
        (0 if original.cpu_percent is None else 1)
        + 6
        + 2 * len(original.disks)
        + 2 * len(original.network)
    )
    assert len(values) == expected_count
    assert all(isinstance(v, float) for _, v in values)
    # Every stored series name is its own canonical name.
    assert all(resolve_metric(name) == name for name in names)
    if len({d.mount for d in original.disks}) == len(original.disks) and len(
        {n.interface for n in original.network}
    ) == len(original.network):
        assert len(set(names)) == len(names)


# --------------------------------------------------------------------------- resolve_metric


@pytest.mark.parametrize(
    ("short", "series_name"),
    [
        ("cpu", "cpu.percent"),
        ("memory", "memory.percent"),
        ("mem", "memory.percent"),
        ("swap", "swap.used_bytes"),
        ("load", "load.1"),
        ("load1", "load.1"),
        ("load5", "load.5"),
        ("load15", "load.15"),
        ("disk:/", "disk.percent:/"),
        ("disk:/data", "disk.percent:/data"),
        ("disk:/mnt/with:colon", "disk.percent:/mnt/with:colon"),
        ("net.rx:eth0", "net.rx_bytes:eth0"),
        ("net.tx:eth0", "net.tx_bytes:eth0"),
    ],
)
def test_resolve_metric_aliases(short: str, series_name: str) -> None:
    assert resolve_metric(short) == series_name


@pytest.mark.parametrize(
    "name",
    [
        "cpu.percent",
        "load.5",
        "memory.used_bytes",
        "disk.percent:/data",
        "disk.used_bytes:/",
        "net.rx_bytes:eth0",
        "disk",
        "net.rx",
        "bogus",
        "bogus:thing",
        "CPU",
        "",
    ],
)
def test_resolve_metric_passes_other_names_through(name: str) -> None:
    assert resolve_metric(name) == name

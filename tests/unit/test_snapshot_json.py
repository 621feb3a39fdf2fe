"""The JSON codecs of the Go engine's snapshot and system info (domain/snapshot_json.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.domain.metrics import (
    CpuTimes,
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
    SystemInfo,
)
from vpshealth.domain.snapshot_json import (
    snapshot_from_json,
    snapshot_to_json,
    system_info_from_json,
    system_info_to_json,
)

_counts = st.integers(min_value=0, max_value=2**63 - 1)
_figures = st.floats(min_value=0, max_value=1e6, allow_nan=False)
_cpu_times = st.builds(CpuTimes, *([_counts] * 8))
_disks = st.builds(
    DiskUsage,
    st.text(min_size=1),
    st.text(min_size=1),
    _counts,
    _counts,
    _counts,
    st.none() | _counts,
    st.none() | _counts,
)
_snapshots = st.builds(
    HostMetrics,
    cpu_percent=st.none(),
    cpu_count=st.integers(min_value=1, max_value=4096),
    load=st.builds(LoadAverage, _figures, _figures, _figures),
    memory=st.builds(MemoryUsage, _counts, _counts),
    swap=st.builds(SwapUsage, _counts, _counts),
    uptime_seconds=_figures,
    disks=st.lists(_disks, max_size=4).map(tuple),
    network=st.lists(st.builds(NetworkCounters, st.text(), _counts, _counts), max_size=4).map(
        tuple
    ),
    cpu_times=st.none() | _cpu_times,
    cpu_times_previous=st.none() | _cpu_times,
)

EXAMPLE = HostMetrics(
    cpu_percent=None,
    cpu_count=2,
    load=LoadAverage(0.12, 0.2, 0.18),
    memory=MemoryUsage(4101234688, 3001234432),
    swap=SwapUsage(0, 0),
    uptime_seconds=86400.5,
    disks=(DiskUsage("/", "ext4", 40000000000, 12000000000, 26000000000, 2600000, 120000),),
    network=(NetworkCounters("eth0", 123, 456),),
    cpu_times=CpuTimes(1, 0, 1, 9),
)


@given(_snapshots)
def test_a_snapshot_survives_the_round_trip_through_json_text(metrics: HostMetrics) -> None:
    text = json.dumps(snapshot_to_json(metrics))
    assert snapshot_from_json(json.loads(text)) == metrics


def test_the_shape_is_the_protocols() -> None:
    data = snapshot_to_json(EXAMPLE)
    assert data == {
        "cpu_count": 2,
        "load": [0.12, 0.2, 0.18],
        "memory": {"total_bytes": 4101234688, "available_bytes": 3001234432},
        "swap": {"total_bytes": 0, "free_bytes": 0},
        "uptime_seconds": 86400.5,
        "disks": [
            {
                "mount": "/",
                "fstype": "ext4",
                "total_bytes": 40000000000,
                "used_bytes": 12000000000,
                "available_bytes": 26000000000,
                "inodes_total": 2600000,
                "inodes_used": 120000,
            }
        ],
        "network": [{"interface": "eth0", "rx_bytes": 123, "tx_bytes": 456}],
        "cpu_times": {
            "user": 1, "nice": 0, "system": 1, "idle": 9,
            "iowait": 0, "irq": 0, "softirq": 0, "steal": 0,
        },
        "cpu_times_previous": None,
    }  # fmt: skip


def test_cpu_percent_is_not_sent_and_reads_back_as_none() -> None:
    data = snapshot_to_json(replace(EXAMPLE, cpu_percent=12.5))
    assert "cpu_percent" not in data
    assert snapshot_from_json(data).cpu_percent is None


def test_integer_figures_are_read_as_floats() -> None:
    data = snapshot_to_json(EXAMPLE)
    data["load"] = [1, 2, 3]
    data["uptime_seconds"] = 7
    metrics = snapshot_from_json(data)
    assert metrics.load == LoadAverage(1.0, 2.0, 3.0)
    assert isinstance(metrics.uptime_seconds, float)


def _broken(change: str) -> dict[str, Any]:
    data = snapshot_to_json(EXAMPLE)
    match change:
        case "missing key":
            del data["swap"]
        case "text for a number":
            data["cpu_count"] = "2"
        case "boolean for a number":
            data["memory"]["total_bytes"] = True
        case "two load figures":
            data["load"] = [0.1, 0.2]
        case "disk without inodes":
            del data["disks"][0]["inodes_used"]
        case "network not a list":
            data["network"] = {"eth0": 1}
        case "cpu times incomplete":
            del data["cpu_times"]["steal"]
        case "not an object":
            return [1, 2]  # type: ignore[return-value]
    return data


@pytest.mark.parametrize(
    "change",
    [
        "missing key",
        "text for a number",
        "boolean for a number",
        "two load figures",
        "disk without inodes",
        "network not a list",
        "cpu times incomplete",
        "not an object",
    ],
)
def test_a_malformed_snapshot_is_a_value_error(change: str) -> None:
    with pytest.raises(ValueError, match="malformed document"):
        snapshot_from_json(_broken(change))


@given(st.builds(SystemInfo, st.text(), st.text(), st.text()))
def test_system_info_survives_the_round_trip(info: SystemInfo) -> None:
    assert system_info_from_json(json.loads(json.dumps(system_info_to_json(info)))) == info


def test_system_info_has_the_protocols_shape() -> None:
    info = SystemInfo("web1", "6.1.0-18-amd64", "Debian GNU/Linux 12 (bookworm)")
    assert system_info_to_json(info) == {
        "hostname": "web1",
        "kernel": "6.1.0-18-amd64",
        "os_name": "Debian GNU/Linux 12 (bookworm)",
    }


@pytest.mark.parametrize("data", [{"hostname": "a", "kernel": "b"}, {"hostname": 1}, None])
def test_malformed_system_info_is_a_value_error(data: Any) -> None:
    with pytest.raises(ValueError, match="malformed document"):
        system_info_from_json(data)

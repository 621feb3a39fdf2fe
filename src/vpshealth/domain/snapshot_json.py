"""The JSON shapes of a raw poll snapshot and of system info, as the Go engine sends them
(engine-go/PROTOCOL.md, ``snapshot`` and ``system_info``). Unlike ``metrics_json`` (the stored
shape) a snapshot keeps the raw CPU counters, the swap's free bytes and the disks' inodes, and
has no CPU %: the service works that out.

Also the strict readers of JSON values the Docker codecs (``docker_json``) share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

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
from vpshealth.domain.metrics_json import metrics_to_json

_P = ParamSpec("_P")
_R = TypeVar("_R")

_CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def malformed_as_value_error(decode: Callable[_P, _R]) -> Callable[_P, _R]:
    """A decoder whose KeyError/TypeError/IndexError on a malformed document is a ValueError
    that names the missing or mistyped part."""

    @functools.wraps(decode)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return decode(*args, **kwargs)
        except KeyError as exc:
            raise ValueError(f"malformed document: {exc.args[0]!r} missing") from None
        except (TypeError, IndexError, AttributeError) as exc:
            raise ValueError(f"malformed document: {exc}") from None

    return wrapper


def json_object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def json_list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected an array, got {type(value).__name__}")
    return value


def json_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def json_optional_int(value: object) -> int | None:
    return None if value is None else json_int(value)


def json_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def json_str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def json_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true/false, got {type(value).__name__}")
    return value


# --- snapshot -----------------------------------------------------------------------------


def snapshot_to_json(metrics: HostMetrics) -> dict[str, Any]:
    """PROTOCOL.md's ``snapshot``: the stored shape without CPU % and used memory, with the
    swap's free bytes, the disks' inodes and the raw CPU counters."""
    data = metrics_to_json(metrics)
    del data["cpu_percent"], data["memory"]["used_bytes"]
    data["swap"] = {"total_bytes": metrics.swap.total_bytes, "free_bytes": metrics.swap.free_bytes}
    for disk_data, disk in zip(data["disks"], metrics.disks, strict=True):
        disk_data["inodes_total"] = disk.inodes_total
        disk_data["inodes_used"] = disk.inodes_used
    data["cpu_times"] = _cpu_times_to_json(metrics.cpu_times)
    data["cpu_times_previous"] = _cpu_times_to_json(metrics.cpu_times_previous)
    return data


@malformed_as_value_error
def snapshot_from_json(data: dict[str, Any]) -> HostMetrics:
    """The inverse of :func:`snapshot_to_json`, with ``cpu_percent`` None. Raises ValueError on
    a malformed document."""
    data = json_object(data)
    load = json_list(data["load"])
    if len(load) != 3:
        raise ValueError(f"malformed document: load has {len(load)} figures, expected 3")
    memory = json_object(data["memory"])
    swap = json_object(data["swap"])
    return HostMetrics(
        cpu_percent=None,
        cpu_count=json_int(data["cpu_count"]),
        load=LoadAverage(*(json_float(figure) for figure in load)),
        memory=MemoryUsage(json_int(memory["total_bytes"]), json_int(memory["available_bytes"])),
        swap=SwapUsage(json_int(swap["total_bytes"]), json_int(swap["free_bytes"])),
        uptime_seconds=json_float(data["uptime_seconds"]),
        disks=tuple(_disk_from_json(json_object(d)) for d in json_list(data["disks"])),
        network=tuple(
            NetworkCounters(
                json_str(n["interface"]), json_int(n["rx_bytes"]), json_int(n["tx_bytes"])
            )
            for n in map(json_object, json_list(data["network"]))
        ),
        cpu_times=_cpu_times_from_json(data["cpu_times"]),
        cpu_times_previous=_cpu_times_from_json(data["cpu_times_previous"]),
    )


def _disk_from_json(d: dict[str, Any]) -> DiskUsage:
    return DiskUsage(
        mount=json_str(d["mount"]),
        fstype=json_str(d["fstype"]),
        total_bytes=json_int(d["total_bytes"]),
        used_bytes=json_int(d["used_bytes"]),
        available_bytes=json_int(d["available_bytes"]),
        inodes_total=json_optional_int(d["inodes_total"]),
        inodes_used=json_optional_int(d["inodes_used"]),
    )


def _cpu_times_to_json(times: CpuTimes | None) -> dict[str, int] | None:
    if times is None:
        return None
    return {name: getattr(times, name) for name in _CPU_FIELDS}


def _cpu_times_from_json(raw: object) -> CpuTimes | None:
    if raw is None:
        return None
    data = json_object(raw)
    return CpuTimes(*(json_int(data[name]) for name in _CPU_FIELDS))


# --- system info --------------------------------------------------------------------------


def system_info_to_json(info: SystemInfo) -> dict[str, str]:
    return {"hostname": info.hostname, "kernel": info.kernel, "os_name": info.os_name}


@malformed_as_value_error
def system_info_from_json(data: dict[str, Any]) -> SystemInfo:
    """The inverse of :func:`system_info_to_json`. Raises ValueError on a malformed document."""
    data = json_object(data)
    return SystemInfo(
        hostname=json_str(data["hostname"]),
        kernel=json_str(data["kernel"]),
        os_name=json_str(data["os_name"]),
    )

"""The JSON shape of host metrics, as ``vpshealth check --json`` prints it and the database
keeps the latest one."""

from __future__ import annotations

from typing import Any

from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
)


def metrics_to_json(metrics: HostMetrics) -> dict[str, Any]:
    return {
        "cpu_percent": metrics.cpu_percent,
        "cpu_count": metrics.cpu_count,
        "load": [metrics.load.one, metrics.load.five, metrics.load.fifteen],
        "memory": {
            "total_bytes": metrics.memory.total_bytes,
            "available_bytes": metrics.memory.available_bytes,
            "used_bytes": metrics.memory.used_bytes,
        },
        "swap": {"total_bytes": metrics.swap.total_bytes, "used_bytes": metrics.swap.used_bytes},
        "uptime_seconds": metrics.uptime_seconds,
        "disks": [
            {
                "mount": d.mount,
                "fstype": d.fstype,
                "total_bytes": d.total_bytes,
                "used_bytes": d.used_bytes,
                "available_bytes": d.available_bytes,
            }
            for d in metrics.disks
        ],
        "network": [
            {"interface": n.interface, "rx_bytes": n.rx_bytes, "tx_bytes": n.tx_bytes}
            for n in metrics.network
        ],
    }


def metrics_from_json(data: dict[str, Any]) -> HostMetrics:
    """The inverse of :func:`metrics_to_json`. Raises KeyError/TypeError/ValueError on a
    malformed document."""
    load = data["load"]
    swap = data["swap"]
    return HostMetrics(
        cpu_percent=None if data["cpu_percent"] is None else float(data["cpu_percent"]),
        cpu_count=int(data["cpu_count"]),
        load=LoadAverage(float(load[0]), float(load[1]), float(load[2])),
        memory=MemoryUsage(
            int(data["memory"]["total_bytes"]), int(data["memory"]["available_bytes"])
        ),
        swap=SwapUsage(
            int(swap["total_bytes"]), int(swap["total_bytes"]) - int(swap["used_bytes"])
        ),
        uptime_seconds=float(data["uptime_seconds"]),
        disks=tuple(
            DiskUsage(
                str(d["mount"]),
                str(d["fstype"]),
                int(d["total_bytes"]),
                int(d["used_bytes"]),
                int(d["available_bytes"]),
            )
            for d in data["disks"]
        ),
        network=tuple(
            NetworkCounters(str(n["interface"]), int(n["rx_bytes"]), int(n["tx_bytes"]))
            for n in data["network"]
        ),
    )

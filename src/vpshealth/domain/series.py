"""Metric series names and how a poll's metrics map onto them.

A series name is ``<metric>`` or ``<metric>:<subject>`` (a mount point or an interface).
"""

from __future__ import annotations

from typing import Final

from vpshealth.domain.containers import ContainerView
from vpshealth.domain.metrics import HostMetrics

ALIASES: Final[dict[str, str]] = {
    "cpu": "cpu.percent",
    "memory": "memory.percent",
    "mem": "memory.percent",
    "swap": "swap.used_bytes",
    "load": "load.1",
    "load1": "load.1",
    "load5": "load.5",
    "load15": "load.15",
}

SUBJECT_ALIASES: Final[dict[str, str]] = {
    "disk": "disk.percent",
    "net.rx": "net.rx_bytes",
    "net.tx": "net.tx_bytes",
}


def resolve_metric(name: str) -> str:
    """Turn a user's short name (``cpu``, ``disk:/``, ``net.rx:eth0``) into a series name."""
    if name in ALIASES:
        return ALIASES[name]
    metric, sep, subject = name.partition(":")
    if sep and metric in SUBJECT_ALIASES:
        return f"{SUBJECT_ALIASES[metric]}:{subject}"
    return name


def flatten(metrics: HostMetrics) -> list[tuple[str, float]]:
    """Every stored value of one poll as (series name, value)."""
    values: list[tuple[str, float]] = []
    if metrics.cpu_percent is not None:
        values.append(("cpu.percent", metrics.cpu_percent))
    values += [
        ("load.1", metrics.load.one),
        ("load.5", metrics.load.five),
        ("load.15", metrics.load.fifteen),
        ("memory.percent", round(metrics.memory.percent, 2)),
        ("memory.used_bytes", float(metrics.memory.used_bytes)),
        ("swap.used_bytes", float(metrics.swap.used_bytes)),
    ]
    for disk in metrics.disks:
        values.append((f"disk.percent:{disk.mount}", round(disk.percent, 2)))
        values.append((f"disk.used_bytes:{disk.mount}", float(disk.used_bytes)))
    for nic in metrics.network:
        values.append((f"net.rx_bytes:{nic.interface}", float(nic.rx_bytes)))
        values.append((f"net.tx_bytes:{nic.interface}", float(nic.tx_bytes)))
    return values


def flatten_containers(views: tuple[ContainerView, ...]) -> list[tuple[str, float]]:
    """Per-container series, named by container name so they survive a re-deploy."""
    values: list[tuple[str, float]] = []
    for view in views:
        name = view.container.name
        if view.metrics.cpu_percent is not None:
            values.append((f"container.cpu_percent:{name}", view.metrics.cpu_percent))
        if view.metrics.memory_bytes is not None:
            values.append((f"container.memory_bytes:{name}", float(view.metrics.memory_bytes)))
    return values

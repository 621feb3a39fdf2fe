"""The JSON shapes of the Docker answers the Go engine sends (engine-go/PROTOCOL.md:
``docker.containers``, ``docker.metrics``, ``event``), and of the parsed stats and listing rows
the shared test vectors hold. The group of a container or an event is never in the JSON: the
readers derive it from labels, name and image, as the parsers do."""

from __future__ import annotations

from typing import Any, Protocol

from vpshealth.domain.container_identity import group_of
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerStats,
    DockerEvent,
    Health,
)
from vpshealth.domain.snapshot_json import (
    json_bool,
    json_int,
    json_list,
    json_object,
    json_optional_int,
    json_str,
    malformed_as_value_error,
)


class ContainerSummaryLike(Protocol):
    """collectors/docker_parsers.ContainerSummary, which the domain cannot import."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def image(self) -> str: ...
    @property
    def created(self) -> int: ...
    @property
    def state(self) -> ContainerState: ...
    @property
    def labels(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def ports(self) -> tuple[str, ...]: ...
    @property
    def status(self) -> str: ...


# --- containers ---------------------------------------------------------------------------


def container_to_json(container: Container) -> dict[str, Any]:
    """PROTOCOL.md's ``docker.containers`` item: the inspect data without the group."""
    return {
        "id": container.id,
        "name": container.name,
        "image": container.image,
        "created": container.created,
        "state": container.state.value,
        "health": container.health.value,
        "failing_streak": container.failing_streak,
        "restart_count": container.restart_count,
        "exit_code": container.exit_code,
        "oom_killed": container.oom_killed,
        "started_at": container.started_at,
        "finished_at": container.finished_at,
        "ports": list(container.ports),
        "labels": _labels_to_json(container.labels),
    }


@malformed_as_value_error
def container_from_json(data: dict[str, Any]) -> Container:
    """The inverse of :func:`container_to_json`; the group is derived as ``parse_inspect``
    does. Raises ValueError on a malformed document."""
    data = json_object(data)
    name = json_str(data["name"])
    image = json_str(data["image"])
    labels = _labels_from_json(data["labels"])
    return Container(
        id=json_str(data["id"]),
        name=name,
        image=image,
        created=json_int(data["created"]),
        state=ContainerState(json_str(data["state"])),
        health=Health(json_str(data["health"])),
        failing_streak=json_int(data["failing_streak"]),
        restart_count=json_int(data["restart_count"]),
        exit_code=json_optional_int(data["exit_code"]),
        oom_killed=json_bool(data["oom_killed"]),
        started_at=json_optional_int(data["started_at"]),
        finished_at=json_optional_int(data["finished_at"]),
        ports=tuple(json_str(port) for port in json_list(data["ports"])),
        labels=labels,
        group=group_of(dict(labels), name, image),
    )


def summary_to_json(summary: ContainerSummaryLike) -> dict[str, Any]:
    """One row of the listing, as ``parse_container_list`` returns it."""
    return {
        "id": summary.id,
        "name": summary.name,
        "image": summary.image,
        "created": summary.created,
        "state": summary.state.value,
        "labels": _labels_to_json(summary.labels),
        "ports": list(summary.ports),
        "status": summary.status,
    }


# --- stats and metrics --------------------------------------------------------------------


def stats_to_json(stats: ContainerStats) -> dict[str, Any]:
    return {
        "container_id": stats.container_id,
        "cpu_total_usage": stats.cpu_total_usage,
        "system_cpu_usage": stats.system_cpu_usage,
        "online_cpus": stats.online_cpus,
        "memory_usage": stats.memory_usage,
        "memory_inactive_file": stats.memory_inactive_file,
        "memory_limit": stats.memory_limit,
    }


@malformed_as_value_error
def stats_from_json(data: dict[str, Any]) -> ContainerStats:
    """The inverse of :func:`stats_to_json`. Raises ValueError on a malformed document."""
    data = json_object(data)
    return ContainerStats(
        container_id=json_str(data["container_id"]),
        cpu_total_usage=json_int(data["cpu_total_usage"]),
        system_cpu_usage=json_optional_int(data["system_cpu_usage"]),
        online_cpus=json_int(data["online_cpus"]),
        memory_usage=json_optional_int(data["memory_usage"]),
        memory_inactive_file=json_int(data["memory_inactive_file"]),
        memory_limit=json_optional_int(data["memory_limit"]),
    )


def container_metrics_to_json(metrics: ContainerMetrics) -> dict[str, Any]:
    return {
        "cpu_percent": metrics.cpu_percent,
        "memory_bytes": metrics.memory_bytes,
        "memory_limit_bytes": metrics.memory_limit_bytes,
    }


@malformed_as_value_error
def container_metrics_from_json(data: dict[str, Any]) -> ContainerMetrics:
    """PROTOCOL.md's ``docker.metrics`` value. Raises ValueError on a malformed document."""
    data = json_object(data)
    cpu = data["cpu_percent"]
    if cpu is not None and (isinstance(cpu, bool) or not isinstance(cpu, int | float)):
        raise ValueError("malformed document: cpu_percent is not a number")
    return ContainerMetrics(
        cpu_percent=None if cpu is None else float(cpu),
        memory_bytes=json_optional_int(data["memory_bytes"]),
        memory_limit_bytes=json_optional_int(data["memory_limit_bytes"]),
    )


# --- events -------------------------------------------------------------------------------


def event_to_json(event: DockerEvent, image: str) -> dict[str, Any]:
    """PROTOCOL.md's ``event.event``. A DockerEvent keeps only the group the image helped to
    name, so the image is given."""
    return {
        "time": event.time,
        "action": event.action,
        "container_id": event.container_id,
        "name": event.name,
        "image": image,
        "exit_code": event.exit_code,
        "health": None if event.health is None else event.health.value,
        "signal": event.signal,
        "labels": _labels_to_json(event.labels),
    }


@malformed_as_value_error
def event_from_json(data: dict[str, Any]) -> DockerEvent:
    """The inverse of :func:`event_to_json`; the group is derived as ``parse_event`` does.
    Raises ValueError on a malformed document."""
    data = json_object(data)
    name = json_str(data["name"])
    labels = _labels_from_json(data["labels"])
    health = data["health"]
    return DockerEvent(
        time=json_int(data["time"]),
        action=json_str(data["action"]),
        container_id=json_str(data["container_id"]),
        name=name,
        exit_code=json_optional_int(data["exit_code"]),
        health=None if health is None else Health(json_str(health)),
        signal=json_optional_int(data["signal"]),
        labels=labels,
        group=group_of(dict(labels), name, json_str(data["image"])),
    )


# --- pieces -------------------------------------------------------------------------------


def _labels_to_json(labels: tuple[tuple[str, str], ...]) -> list[list[str]]:
    return [[key, value] for key, value in labels]


def _labels_from_json(raw: object) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in json_list(raw):
        pair = json_list(item)
        if len(pair) != 2:
            raise ValueError("malformed document: a label is not a [key, value] pair")
        pairs.append((json_str(pair[0]), json_str(pair[1])))
    return tuple(pairs)

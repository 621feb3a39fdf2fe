"""The JSON shapes of hosts, check results, containers, incidents, events, silences, rules and
history: what `vpshealth ... --json` prints and, later, what the HTTP API serves. Pure."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from vpshealth.collectors.ssh_keys import fingerprint_of_line
from vpshealth.domain.alert_rules import RULE_SPECS, RuleSet
from vpshealth.domain.containers import ContainerView
from vpshealth.domain.health import CheckResult
from vpshealth.domain.hosts import HostKind
from vpshealth.domain.metrics_json import metrics_to_json
from vpshealth.domain.silences import Silence
from vpshealth.read_model.events import Event
from vpshealth.store.history import RAW, SeriesData
from vpshealth.store.host_repository import HostRecord
from vpshealth.store.incident_repository import IncidentRecord
from vpshealth.store.rollups import HOUR, MINUTE

JsonObject = dict[str, Any]


def iso_time(ts: float | None) -> str | None:
    """UTC with a ``Z``, e.g. ``2027-01-15T08:00:00Z``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def host_json(record: HostRecord) -> JsonObject:
    host = record.host
    status = record.status
    return {
        "name": host.name,
        "kind": host.kind.value,
        "address": host.address,
        "port": host.port,
        "user": host.user,
        "auth": host.auth.value,
        "interval_seconds": host.interval_seconds,
        "enabled": host.enabled,
        "tags": list(host.tags),
        "docker_socket": host.docker_socket if host.kind is HostKind.SSH else None,
        "host_key_fingerprint": fingerprint_of_line(host.host_key) if host.host_key else None,
        "system": None
        if record.system_info is None
        else {
            "hostname": record.system_info.hostname,
            "kernel": record.system_info.kernel,
            "os": record.system_info.os_name,
        },
        "state": status.state.value if status else "unknown",
        "problem": status.problem.value if status and status.problem else None,
        "message": status.message if status else "Not checked yet",
        "state_since": iso_time(status.since) if status else None,
        "checked_at": iso_time(status.checked_at) if status else None,
        "metrics": metrics_to_json(status.metrics) if status and status.metrics else None,
    }


def group_json(view: ContainerView) -> JsonObject:
    group = view.container.group
    return {
        "kind": group.kind.value,
        "project": group.project,
        "environment": group.environment,
        "resource": group.resource or group.service,
        "identity": group.identity,
        "app": group.app,
    }


def container_json(view: ContainerView) -> JsonObject:
    c, m = view.container, view.metrics
    return {
        "id": c.id,
        "name": c.name,
        "image": c.image,
        "state": c.state.value,
        "health": c.health.value,
        "failing_streak": c.failing_streak,
        "restart_count": c.restart_count,
        "exit_code": c.exit_code,
        "oom_killed": c.oom_killed,
        "cpu_percent": m.cpu_percent,
        "memory_bytes": m.memory_bytes,
        "memory_limit_bytes": m.memory_limit_bytes,
        "created": iso_time(c.created),
        "started_at": iso_time(c.started_at),
        "finished_at": iso_time(c.finished_at),
        "ports": list(c.ports),
        "group": group_json(view),
        "infrastructure": c.group.infrastructure,
    }


def check_result_json(result: CheckResult, address: str) -> JsonObject:
    docker = result.docker
    containers = (
        None
        if docker is None or docker.containers is None
        else [container_json(view) for view in docker.containers]
    )
    return {
        "name": result.host_name,
        "address": address,
        "state": result.state.value,
        "problem": result.problem.value if result.problem else None,
        "message": result.message,
        "checked_at": iso_time(result.checked_at),
        "metrics": metrics_to_json(result.metrics) if result.metrics else None,
        "containers": containers,
        "incidents": [
            {
                "kind": i.kind.value,
                "container": i.container_name or None,
                "app": i.app,
                "severity": i.severity.value,
                "since": iso_time(i.at),
                "message": i.message,
            }
            for i in (docker.open if docker else ())
        ],
    }


def incident_state(record: IncidentRecord) -> str:
    """``open``, ``acknowledged``, ``flapping`` or ``resolved``."""
    if not record.is_open:
        return "resolved"
    if record.flapping:
        return "flapping"
    return "acknowledged" if record.acknowledged_at is not None else "open"


def incident_json(record: IncidentRecord) -> JsonObject:
    return {
        "id": record.id,
        "host": record.host_name,
        "address": record.host_address,
        "rule": record.rule,
        "subject": record.subject,
        "app": record.app,
        "severity": record.severity,
        "state": incident_state(record),
        "opened_at": iso_time(record.opened_at),
        "resolved_at": iso_time(record.resolved_at),
        "acknowledged_at": iso_time(record.acknowledged_at),
        "message": record.message,
        "resolution": record.resolution,
        "value": record.value,
        "threshold": record.threshold,
        "reminders_sent": record.reminders_sent,
        "log_lines": record.log_lines,
    }


def event_json(event: Event) -> JsonObject:
    return {
        "time": iso_time(event.at),
        "host": event.host_name,
        "kind": event.kind,
        "old_state": event.old_state,
        "new_state": event.new_state,
        "problem": event.problem,
        "message": event.message,
    }


def silence_json(silence: Silence, host_name: str | None, *, now: int, when: str) -> JsonObject:
    """``when`` says it in words, in the reader's time zone (the face writes it)."""
    return {
        "id": silence.id,
        "host": host_name,
        "kind": silence.kind.value,
        "active": silence.active(now),
        "when": when,
        "starts_at": iso_time(silence.starts_at),
        "ends_at": iso_time(silence.ends_at),
        "reason": silence.reason,
    }


def rules_json(host_name: str | None, effective: RuleSet, set_here: Collection[str]) -> JsonObject:
    return {
        "host": host_name,
        "rules": {
            name: {
                "value": effective[name],
                "set_here": name in set_here,
                "default": spec.default,
                "unit": spec.unit,
            }
            for name, spec in RULE_SPECS.items()
        },
    }


def resolution_name(data: SeriesData) -> str:
    return {RAW: "raw", MINUTE: "1m", HOUR: "1h"}[data.resolution]


def series_json(host_name: str, metric: str, data: SeriesData) -> JsonObject:
    return {
        "host": host_name,
        "metric": metric,
        "resolution": resolution_name(data),
        "step_seconds": data.bucket_seconds,
        "points": [_point_json(data, i) for i in range(len(data))],
    }


def _point_json(data: SeriesData, i: int) -> JsonObject:
    ts = data.timestamps[i]
    point: JsonObject = {"time": iso_time(ts), "ts": ts, "value": data.average[i]}
    if data.bucket_seconds:
        point |= {"min": data.minimum[i], "avg": data.average[i], "max": data.maximum[i]}
    return point

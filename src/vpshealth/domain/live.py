"""The live stream's messages: what was recorded (a check result, a state change, an incident
opened, updated or resolved, a notification), numbered by the log that stores them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from vpshealth.domain.containers import ContainerState
from vpshealth.domain.health import CheckResult

JsonObject = dict[str, Any]


class LiveKind(StrEnum):
    CHECK = "check"
    STATE = "state"
    INCIDENT = "incident"
    NOTIFICATION = "notification"
    CHANGE = "change"
    """An edit through the API (hosts, rules, silences, settings): linked desktops catch up."""


ALL_KINDS = frozenset(LiveKind)
KIND_NAMES = frozenset(k.value for k in LiveKind)


@dataclass(frozen=True, slots=True)
class LiveDraft:
    """A message not numbered yet: written in the same transaction as what it reports."""

    kind: LiveKind
    at: float
    host_id: int | None
    host: str | None
    data: JsonObject

    def numbered(self, seq: int) -> LiveMessage:
        return LiveMessage(seq, self.kind, self.at, self.host_id, self.host, self.data)


@dataclass(frozen=True, slots=True)
class LiveMessage:
    seq: int
    kind: LiveKind
    at: float
    host_id: int | None
    host: str | None
    data: JsonObject

    def to_json(self) -> JsonObject:
        return {
            "seq": self.seq,
            "kind": self.kind.value,
            "at": iso(self.at),
            "host": self.host,
            "data": self.data,
        }


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def check_data(result: CheckResult) -> JsonObject:
    """Compact: the state and the headline figures, not every series (those are in the
    history). The message's ``at`` is when the host was checked."""
    metrics = result.metrics
    data: JsonObject = {
        "state": result.state.value,
        "problem": result.problem.value if result.problem else None,
        "message": result.message,
        "cpu_percent": None,
        "memory_percent": None,
        "load1": None,
        "disk_percent": None,
        "containers": None,
    }
    if metrics is not None:
        data["cpu_percent"] = _rounded(metrics.cpu_percent)
        data["memory_percent"] = _rounded(metrics.memory.percent)
        data["load1"] = round(metrics.load.one, 2)
        data["disk_percent"] = _rounded(max((d.percent for d in metrics.disks), default=None))
    docker = result.docker
    if docker is not None and docker.containers is not None:
        running = sum(1 for v in docker.containers if v.container.state is ContainerState.RUNNING)
        data["containers"] = {
            "total": len(docker.containers),
            "running": running,
            "open_incidents": len(docker.open),
        }
    return data


def check_draft(host_id: int, result: CheckResult) -> LiveDraft:
    return LiveDraft(
        LiveKind.CHECK, float(result.checked_at), host_id, result.host_name, check_data(result)
    )


def state_draft(
    host_id: int,
    host: str,
    at: float,
    *,
    old_state: str | None,
    new_state: str,
    problem: str | None,
    message: str,
) -> LiveDraft:
    data = {"old_state": old_state, "new_state": new_state, "problem": problem, "message": message}
    return LiveDraft(LiveKind.STATE, at, host_id, host, data)

"""The lines the service and the Go check engine exchange (engine-go/PROTOCOL.md): encoding
what the service sends, decoding what the engine writes. No I/O. A line that is not a valid
message decodes to ``Malformed``, never an exception."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Ready:
    version: str
    pid: int


@dataclass(frozen=True, slots=True)
class ResultMessage:
    """One check's outcome, its parts still as the protocol's JSON objects."""

    host_id: int
    seq: int
    due_at: float
    started_at: float
    checked_at: float
    duration_ms: int
    problem: str | None
    message: str
    snapshot: dict[str, Any] | None
    system_info: dict[str, Any] | None
    docker: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class EventMessage:
    host_id: int
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DockerAnswer:
    request: int
    status: int
    body: bytes
    error: str | None


@dataclass(frozen=True, slots=True)
class LogMessage:
    level: str
    host_id: int | None
    message: str


@dataclass(frozen=True, slots=True)
class EngineStats:
    """The engine's own measurements, every 10 s (for the benchmarks)."""

    cpu_seconds: float
    rss_bytes: int
    goroutines: int
    max_tick_late_ms: float
    connections: int


@dataclass(frozen=True, slots=True)
class Stopped:
    pass


@dataclass(frozen=True, slots=True)
class Unknown:
    type: str


@dataclass(frozen=True, slots=True)
class Malformed:
    reason: str


Message = (
    Ready
    | ResultMessage
    | EventMessage
    | DockerAnswer
    | LogMessage
    | EngineStats
    | Stopped
    | Unknown
    | Malformed
)


class _Invalid(ValueError):
    pass


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{key} is not an integer")
    return value


def _float(obj: dict[str, Any], key: str) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"{key} is not a number")
    return float(value)


def _str(obj: dict[str, Any], key: str, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise _Invalid(f"{key} is not a string")
    return value


def _optional_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"{key} is not a string")
    return value


def _optional_int(obj: dict[str, Any], key: str) -> int | None:
    return None if obj.get(key) is None else _int(obj, key)


def _optional_object(obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, dict):
        raise _Invalid(f"{key} is not an object")
    return value


def _object(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = _optional_object(obj, key)
    if value is None:
        raise _Invalid(f"{key} is missing")
    return value


def _result(obj: dict[str, Any]) -> ResultMessage:
    return ResultMessage(
        host_id=_int(obj, "host_id"),
        seq=_int(obj, "seq"),
        due_at=_float(obj, "due_at"),
        started_at=_float(obj, "started_at"),
        checked_at=_float(obj, "checked_at"),
        duration_ms=_int(obj, "duration_ms"),
        problem=_optional_str(obj, "problem"),
        message=_str(obj, "message", ""),
        snapshot=_optional_object(obj, "snapshot"),
        system_info=_optional_object(obj, "system_info"),
        docker=_optional_object(obj, "docker"),
    )


def _docker_answer(obj: dict[str, Any]) -> DockerAnswer:
    try:
        body = base64.b64decode(_str(obj, "body", ""), validate=True)
    except ValueError:  # binascii.Error, or not ASCII
        raise _Invalid("body is not base64") from None
    return DockerAnswer(
        _int(obj, "request"), _int(obj, "status"), body, _optional_str(obj, "error")
    )


def _stats(obj: dict[str, Any]) -> EngineStats:
    return EngineStats(
        cpu_seconds=_float(obj, "cpu_seconds"),
        rss_bytes=_int(obj, "rss_bytes"),
        goroutines=_int(obj, "goroutines"),
        max_tick_late_ms=_float(obj, "max_tick_late_ms"),
        connections=_int(obj, "connections"),
    )


def _log(obj: dict[str, Any]) -> LogMessage:
    return LogMessage(
        _str(obj, "level", "info"), _optional_int(obj, "host_id"), _str(obj, "message")
    )


_DECODERS: dict[str, Callable[[dict[str, Any]], Message]] = {
    "result": _result,
    "event": lambda obj: EventMessage(_int(obj, "host_id"), _object(obj, "event")),
    "docker_get": _docker_answer,
    "log": _log,
    "stats": _stats,
    "ready": lambda obj: Ready(_str(obj, "version", ""), _int(obj, "pid")),
    "stopped": lambda obj: Stopped(),
}


def _decode(obj: dict[str, Any]) -> Message:
    kind = _str(obj, "type")
    decoder = _DECODERS.get(kind)
    return Unknown(kind) if decoder is None else decoder(obj)


def decode_line(line: bytes) -> Message:
    """One line of the engine's standard output (with or without its newline)."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return Malformed(f"not JSON: {type(exc).__name__}")
    if not isinstance(obj, dict):
        return Malformed("not a JSON object")
    try:
        return _decode(obj)
    except _Invalid as exc:
        return Malformed(f"a {str(obj.get('type'))[:40]!r} message whose {exc}")


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


@dataclass(frozen=True, slots=True)
class StartOptions:
    max_concurrency: int
    poll_timeout: float
    connect_timeout: float
    command_timeout: float
    keepalive_interval: float
    keepalive_count_max: int = 3
    max_channels: int = 8
    rekey_seconds: float = 3600.0


def start_line(options: StartOptions, *, start_now: bool) -> bytes:
    return encode(
        {
            "type": "start",
            "options": {
                "max_concurrency": options.max_concurrency,
                "poll_timeout": options.poll_timeout,
                "connect_timeout": options.connect_timeout,
                "command_timeout": options.command_timeout,
                "keepalive_interval": options.keepalive_interval,
                "keepalive_count_max": options.keepalive_count_max,
                "max_channels": options.max_channels,
                "rekey_seconds": options.rekey_seconds,
                "start_now": start_now,
            },
        }
    )


def hosts_line(hosts: list[dict[str, Any]]) -> bytes:
    """The ``hosts`` message; it holds key material: never log it, never write it to a file."""
    return encode({"type": "hosts", "hosts": hosts})


def docker_get_line(request: int, host_id: int, path: str) -> bytes:
    return encode({"type": "docker_get", "request": request, "host_id": host_id, "path": path})


STOP_LINE = encode({"type": "stop"})

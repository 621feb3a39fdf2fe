"""The line codec between the service and the Go check engine (engine-go/PROTOCOL.md)."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpshealth.engine.go_protocol import (
    DockerAnswer,
    EngineStats,
    EventMessage,
    LogMessage,
    Malformed,
    Message,
    Ready,
    ResultMessage,
    StartOptions,
    Stopped,
    Unknown,
    decode_line,
    docker_get_line,
    hosts_line,
    start_line,
)

RESULT = {
    "type": "result", "host_id": 3, "seq": 1812, "due_at": 1765100000.0,
    "started_at": 1765100000.004, "checked_at": 1765100000.004, "duration_ms": 5,
    "problem": None, "message": "", "snapshot": {"cpu_count": 2}, "system_info": None,
    "docker": None, "unknown_field": [1, 2],
}  # fmt: skip


def line(obj: object) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def test_each_message_of_the_engine_decodes() -> None:
    assert decode_line(line({"type": "ready", "version": "0.1.0", "pid": 12})) == Ready("0.1.0", 12)
    result = decode_line(line(RESULT))
    assert isinstance(result, ResultMessage)
    assert (result.host_id, result.seq, result.duration_ms) == (3, 1812, 5)
    assert result.snapshot == {"cpu_count": 2}
    assert result.docker is None
    event = {"type": "event", "host_id": 3, "event": {"action": "die"}}
    assert decode_line(line(event)) == EventMessage(3, {"action": "die"})
    answer = {"type": "docker_get", "request": 17, "status": 200,
              "body": base64.b64encode(b"{}").decode(), "error": None}  # fmt: skip
    assert decode_line(line(answer)) == DockerAnswer(17, 200, b"{}", None)
    log = {"type": "log", "level": "info", "host_id": None, "message": "Connected"}
    assert decode_line(line(log)) == LogMessage("info", None, "Connected")
    stats = {"type": "stats", "cpu_seconds": 12.5, "rss_bytes": 31457280, "goroutines": 2051,
             "max_tick_late_ms": 3.1, "connections": 1000}  # fmt: skip
    assert decode_line(line(stats)) == EngineStats(12.5, 31457280, 2051, 3.1, 1000)
    assert decode_line(line({"type": "stopped"})) == Stopped()
    assert decode_line(line({"type": "later"})) == Unknown("later")


def test_wrong_fields_are_malformed_not_errors() -> None:
    for broken in (
        {**RESULT, "host_id": "3"},
        {**RESULT, "host_id": True},
        {**RESULT, "snapshot": [1]},
        {key: value for key, value in RESULT.items() if key != "seq"},
        {"type": "docker_get", "request": 1, "status": 200, "body": "!!"},
        {"type": "event", "host_id": 3},
        {"type": 7},
        [RESULT],
    ):
        assert isinstance(decode_line(line(broken)), Malformed), broken
    assert isinstance(decode_line(b'{"type": "result", "host_id": '), Malformed)
    assert isinstance(decode_line(b"\xff\xfe\n"), Malformed)
    assert isinstance(decode_line(b"[" * 100_000), Malformed)


MESSAGE_TYPES = (
    Ready, ResultMessage, EventMessage, DockerAnswer, LogMessage, EngineStats, Stopped,
    Unknown, Malformed,
)  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
field_names = st.sampled_from(
    ["type", "host_id", "seq", "due_at", "started_at", "checked_at", "duration_ms", "problem",
     "message", "snapshot", "system_info", "docker", "event", "request", "status", "body",
     "error", "level", "pid", "version", "cpu_seconds", "rss_bytes", "goroutines",
     "max_tick_late_ms", "connections"]
)  # fmt: skip
types = st.sampled_from(["result", "event", "docker_get", "log", "stats", "ready", "stopped"])


@given(st.binary(max_size=200))
def test_garbage_bytes_never_crash_the_reader(data: bytes) -> None:
    assert isinstance(decode_line(data), MESSAGE_TYPES)


@settings(suppress_health_check=[HealthCheck.too_slow])  # two cores shared with other work
@given(types, st.dictionaries(field_names, json_values, max_size=8))
def test_messages_with_any_fields_never_crash_the_reader(
    kind: str, fields: dict[str, object]
) -> None:
    message: Message = decode_line(line({**fields, "type": kind}))
    assert isinstance(message, MESSAGE_TYPES)


def test_what_the_service_sends() -> None:
    options = StartOptions(64, 45.0, 10.0, 20.0, 30.0)
    start = json.loads(start_line(options, start_now=True))
    assert start["type"] == "start"
    assert start["options"]["start_now"] is True
    assert start["options"]["max_concurrency"] == 64
    assert json.loads(hosts_line([{"id": 1}])) == {"type": "hosts", "hosts": [{"id": 1}]}
    get = docker_get_line(17, 3, "/containers/abc/json")
    assert get.endswith(b"\n")
    assert b"\n" not in get[:-1]
    assert json.loads(get) == {
        "type": "docker_get", "request": 17, "host_id": 3, "path": "/containers/abc/json",
    }  # fmt: skip

"""Property tests for docker_parsers: whatever arrives on the Docker socket, the parsers either
return values that are sane to store or raise ParseError; never another exception."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from enum import Enum
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpshealth.collectors.docker_parsers import (
    ContainerSummary,
    parse_container_list,
    parse_event,
    parse_inspect,
    parse_stats,
    parse_version,
)
from vpshealth.domain.containers import Container, ContainerGroup, ContainerStats, DockerEvent
from vpshealth.domain.errors import ParseError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "docker"
MAX_INT = 2**63 - 1
FUZZ = settings(max_examples=200, deadline=None)

Parser = Callable[[bytes | str], object]
PARSERS: list[Parser] = [
    parse_container_list,
    parse_inspect,
    parse_stats,
    parse_event,
    parse_version,
]

LISTINGS = sorted(FIXTURES.glob("*containers_list*.json"))
INSPECTS = sorted(FIXTURES.glob("inspect_*.json"))
STATS = sorted(FIXTURES.glob("*stats_*.json"))
EVENT_LINES = sorted(
    {
        line
        for path in FIXTURES.glob("events_*.jsonl")
        for line in path.read_bytes().splitlines()
        if line.strip()
    }
)
DOCUMENTS: list[tuple[Parser, bytes]] = [
    *((parse_container_list, p.read_bytes()) for p in LISTINGS),
    *((parse_inspect, p.read_bytes()) for p in INSPECTS),
    *((parse_stats, p.read_bytes()) for p in STATS),
    *((parse_event, line) for line in EVENT_LINES),
    (parse_version, (FIXTURES / "version.json").read_bytes()),
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, 2**64 - 1, 65535, 65536, 137, 143]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "running",
            "exited",
            "healthy",
            "unhealthy",
            "0001-01-01T00:00:00Z",
            "2026-11-29T07:52:40.033119091Z",
            "80/tcp",
            "true",
            "\ud800",
            "a" * 64,
            "Up 3 minutes (healthy)",
            "ac63d96defaa8701e4cef283d8d0df761788ace337bd7b9b2c8a035365b0ac69",
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=20,
)


def check_sane(value: object) -> None:
    """Everything a parser returns must be storable: bounded ints, finite floats, UTF-8 text."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, Enum):
        return
    if isinstance(value, int):
        assert -(2**63) <= value <= MAX_INT
    elif isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, str):
        value.encode("utf-8")  # no lone surrogates
    elif isinstance(value, list | tuple):
        for item in value:
            check_sane(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            check_sane(getattr(value, item.name))
    else:
        raise AssertionError(f"unexpected {type(value).__name__}")


def run(parser: Parser, body: bytes | str) -> None:
    error: ParseError | None = None
    result: object = None
    try:
        result = parser(body)
    except ParseError as exc:
        error = exc
    if error is not None:
        assert len(str(error)) < 200
        return
    check_sane(result)
    checks = {
        parse_container_list: _check_listing,
        parse_inspect: _check_container,
        parse_stats: _check_stats,
        parse_event: _check_event,
        parse_version: _check_version,
    }
    checks[parser](result)


def _check_listing(result: object) -> None:
    assert isinstance(result, list)
    for row in result:
        assert isinstance(row, ContainerSummary)
        assert len(row.id) == 64
        assert row.name
        assert row.name.isprintable()
        assert row.created >= 0
        assert isinstance(row.group, ContainerGroup)


def _check_container(result: object) -> None:
    assert isinstance(result, Container)
    assert result.name
    assert result.name.isprintable()
    assert result.restart_count >= 0
    assert result.failing_streak >= 0
    assert result.created >= 0
    for moment in (result.started_at, result.finished_at):
        assert moment is None or moment >= 0


def _check_stats(result: object) -> None:
    assert isinstance(result, ContainerStats)
    assert result.online_cpus >= 1
    assert result.cpu_total_usage >= 0
    assert result.memory_inactive_file >= 0
    if result.memory_usage is None:
        assert result.memory_inactive_file == 0
    else:
        assert result.memory_inactive_file <= result.memory_usage
    assert result.memory_limit is None or result.memory_limit > 0


def _check_event(result: object) -> None:
    assert result is None or isinstance(result, DockerEvent)
    if isinstance(result, DockerEvent):
        assert result.time >= 0
        assert result.name
        assert len(result.container_id) == 64


def _check_version(result: object) -> None:
    assert isinstance(result, str)
    assert result.replace(".", "").isdigit()


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes(parser: Parser, body: bytes) -> None:
    run(parser, body)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@FUZZ
@given(value=json_values)
def test_any_json_value(parser: Parser, value: object) -> None:
    run(parser, json.dumps(value))


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@FUZZ
@given(text=st.text(max_size=200))
def test_any_text(parser: Parser, text: str) -> None:
    run(parser, text)


def paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside a JSON document."""
    found: list[tuple[object, ...]] = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += paths(child, (*prefix, index))
    return found


def replaced(document: object, path: tuple[object, ...], value: object) -> object:
    if not path:
        return value
    head, *rest = path
    if isinstance(document, dict):
        copy = dict(document)
        copy[head] = replaced(document[head], tuple(rest), value)
        return copy
    assert isinstance(document, list)
    assert isinstance(head, int)
    items = list(document)
    items[head] = replaced(document[head], tuple(rest), value)
    return items


def removed(document: object, path: tuple[object, ...]) -> object:
    head, *rest = path
    if not rest:
        if isinstance(document, dict):
            return {k: v for k, v in document.items() if k != head}
        assert isinstance(document, list)
        return [v for i, v in enumerate(document) if i != head]
    if isinstance(document, dict):
        return {**document, head: removed(document[head], tuple(rest))}
    assert isinstance(document, list)
    assert isinstance(head, int)
    return [removed(v, tuple(rest)) if i == head else v for i, v in enumerate(document)]


@FUZZ
@given(data=st.data())
def test_mutated_fixture_value(data: st.DataObject) -> None:
    """Replace one value anywhere in a recorded answer with an arbitrary JSON value."""
    parser, body = data.draw(st.sampled_from(DOCUMENTS))
    document = json.loads(body)
    path = data.draw(st.sampled_from(paths(document)))
    value = data.draw(json_values)
    run(parser, json.dumps(replaced(document, path, value)))


@FUZZ
@given(data=st.data())
def test_mutated_fixture_missing_key(data: st.DataObject) -> None:
    parser, body = data.draw(st.sampled_from(DOCUMENTS))
    document = json.loads(body)
    choices = [p for p in paths(document) if p]
    path = data.draw(st.sampled_from(choices))
    run(parser, json.dumps(removed(document, path)))


@FUZZ
@given(data=st.data())
def test_mutated_fixture_bytes(data: st.DataObject) -> None:
    """Flip, cut or splice raw bytes of a recorded answer (non-UTF-8 included)."""
    parser, body = data.draw(st.sampled_from(DOCUMENTS))
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 20)))
    insert = data.draw(st.binary(max_size=8))
    run(parser, body[:start] + insert + body[end:])


def test_every_fixture_parses() -> None:
    assert len(DOCUMENTS) > 150
    for parser, body in DOCUMENTS:
        result = parser(body)
        check_sane(result)


def test_check_sane_rejects_garbage() -> None:
    with pytest.raises(AssertionError):
        check_sane(2**63)
    with pytest.raises(UnicodeEncodeError):
        check_sane("\ud800")
    with pytest.raises(AssertionError):
        check_sane(float("nan"))

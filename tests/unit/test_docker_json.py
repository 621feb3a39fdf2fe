"""The JSON codecs of the Go engine's Docker answers (domain/docker_json.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.collectors.docker_parsers import ContainerSummary
from vpshealth.domain.container_identity import group_of
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerStats,
    DockerEvent,
    Health,
)
from vpshealth.domain.docker_json import (
    container_from_json,
    container_metrics_from_json,
    container_metrics_to_json,
    container_to_json,
    event_from_json,
    event_to_json,
    stats_from_json,
    stats_to_json,
    summary_to_json,
)

_counts = st.integers(min_value=0, max_value=2**63 - 1)
_names = st.sampled_from(["web-abc", "coolify-proxy", "blog-db-1", "x"])
_images = st.sampled_from(["nginx:1.25", "", "coollabsio/coolify-helper:1.0.4"])
_labels = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "coolify.managed",
                "coolify.projectName",
                "com.docker.compose.project",
                "com.docker.compose.service",
                "other",
            ]
        ),
        st.sampled_from(["true", "shop", "blog", "db", ""]),
    ),
    max_size=4,
    unique_by=lambda pair: pair[0],
).map(lambda pairs: tuple(sorted(pairs)))


@st.composite
def _containers(draw: st.DrawFn) -> Container:
    name, image, labels = draw(_names), draw(_images), draw(_labels)
    return Container(
        id=draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
        name=name,
        image=image,
        created=draw(_counts),
        state=draw(st.sampled_from(ContainerState)),
        health=draw(st.sampled_from(Health)),
        failing_streak=draw(_counts),
        restart_count=draw(_counts),
        exit_code=draw(st.none() | st.integers(min_value=-(2**31), max_value=2**32 - 1)),
        oom_killed=draw(st.booleans()),
        started_at=draw(st.none() | _counts),
        finished_at=draw(st.none() | _counts),
        ports=tuple(draw(st.lists(st.sampled_from(["80/tcp", "0.0.0.0:80->80/tcp"])))),
        labels=labels,
        group=group_of(dict(labels), name, image),
    )


@st.composite
def _events(draw: st.DrawFn) -> tuple[DockerEvent, str]:
    name, image, labels = draw(_names), draw(_images), draw(_labels)
    event = DockerEvent(
        time=draw(_counts),
        action=draw(st.sampled_from(["die", "start", "health_status", "kill"])),
        container_id="a" * 64,
        name=name,
        exit_code=draw(st.none() | st.integers(min_value=-1, max_value=255)),
        health=draw(st.none() | st.sampled_from(Health)),
        signal=draw(st.none() | st.integers(min_value=1, max_value=128)),
        labels=labels,
        group=group_of(dict(labels), name, image),
    )
    return event, image


def _through_text(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


@given(_containers())
def test_a_container_survives_the_round_trip(container: Container) -> None:
    assert container_from_json(_through_text(container_to_json(container))) == container


def test_a_container_has_the_protocols_shape_without_the_group() -> None:
    labels = (("coolify.managed", "true"),)
    container = Container(
        id="4f1c" * 16,
        name="web-abc",
        image="nginx:1.25",
        created=1765000000,
        state=ContainerState.RUNNING,
        started_at=1765000001,
        ports=("0.0.0.0:80->80/tcp",),
        labels=labels,
        group=group_of(dict(labels), "web-abc", "nginx:1.25"),
    )
    assert container_to_json(container) == {
        "id": "4f1c" * 16, "name": "web-abc", "image": "nginx:1.25", "created": 1765000000,
        "state": "running", "health": "none", "failing_streak": 0, "restart_count": 0,
        "exit_code": None, "oom_killed": False, "started_at": 1765000001, "finished_at": None,
        "ports": ["0.0.0.0:80->80/tcp"], "labels": [["coolify.managed", "true"]],
    }  # fmt: skip


def test_the_group_is_derived_from_labels_name_and_image() -> None:
    labels = (("com.docker.compose.project", "blog"), ("com.docker.compose.service", "db"))
    container = Container(
        "b" * 64, "blog-db-1", "mariadb", 1, ContainerState.RUNNING, labels=labels
    )
    assert container_from_json(container_to_json(container)).group == group_of(
        dict(labels), "blog-db-1", "mariadb"
    )


@given(_counts, st.none() | _counts, st.integers(1, 4096), st.none() | _counts, _counts)
def test_stats_survive_the_round_trip(
    total: int, system: int | None, cpus: int, usage: int | None, inactive: int
) -> None:
    stats = ContainerStats("c" * 64, total, system, cpus, usage, inactive, usage)
    assert stats_from_json(_through_text(stats_to_json(stats))) == stats


@given(
    st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.none() | _counts,
    st.none() | _counts,
)
def test_metrics_survive_the_round_trip(
    cpu: float | None, memory: int | None, limit: int | None
) -> None:
    metrics = ContainerMetrics(cpu, memory, limit)
    assert container_metrics_from_json(_through_text(container_metrics_to_json(metrics))) == (
        metrics
    )


def test_an_integer_cpu_percent_reads_as_a_float() -> None:
    metrics = container_metrics_from_json(
        {"cpu_percent": 3, "memory_bytes": None, "memory_limit_bytes": None}
    )
    assert metrics == ContainerMetrics(3.0, None, None)
    assert isinstance(metrics.cpu_percent, float)


@given(_events())
def test_an_event_survives_the_round_trip(case: tuple[DockerEvent, str]) -> None:
    event, image = case
    assert event_from_json(_through_text(event_to_json(event, image))) == event


def test_the_helper_image_makes_an_events_group_infrastructure() -> None:
    event = DockerEvent(1, "die", "d" * 64, "abcdefghijklmnopqrstuvwx", exit_code=1)
    data = event_to_json(event, "coollabsio/coolify-helper:1.0.4")
    assert data["image"] == "coollabsio/coolify-helper:1.0.4"
    assert event_from_json(data).group == group_of({}, event.name, data["image"])


def test_a_summary_has_the_listing_fields() -> None:
    summary = ContainerSummary(
        "e" * 64, "web", "nginx", 5, ContainerState.EXITED, (("a", "b"),), ("80/tcp",), "Exited"
    )
    assert summary_to_json(summary) == {
        "id": "e" * 64, "name": "web", "image": "nginx", "created": 5, "state": "exited",
        "labels": [["a", "b"]], "ports": ["80/tcp"], "status": "Exited",
    }  # fmt: skip


def _container_json() -> dict[str, Any]:
    return container_to_json(Container("f" * 64, "web", "nginx", 1, ContainerState.RUNNING))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("state", "sleeping"),
        ("health", "meh"),
        ("created", "1"),
        ("oom_killed", 0),
        ("labels", [["only-key"]]),
        ("labels", {"a": "b"}),
        ("ports", [80]),
        ("exit_code", 1.5),
    ],
)
def test_a_malformed_container_is_a_value_error(key: str, value: object) -> None:
    data = _container_json()
    data[key] = value
    with pytest.raises(ValueError):
        container_from_json(data)


def test_a_container_without_a_field_is_a_value_error() -> None:
    data = _container_json()
    del data["restart_count"]
    with pytest.raises(ValueError, match="restart_count"):
        container_from_json(data)


@pytest.mark.parametrize("decode", [stats_from_json, container_metrics_from_json, event_from_json])
def test_the_other_readers_refuse_an_empty_object(decode: Any) -> None:
    with pytest.raises(ValueError, match="missing"):
        decode({})


def test_a_malformed_event_is_a_value_error() -> None:
    data = event_to_json(DockerEvent(1, "die", "a" * 64, "web"), "")
    data["health"] = "sick"
    with pytest.raises(ValueError):
        event_from_json(data)

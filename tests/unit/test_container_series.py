"""Per-app container series: keyed by the app's identity, one value per app and poll."""

from __future__ import annotations

from vpshealth.domain.containers import (
    Container,
    ContainerGroup,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    GroupKind,
)
from vpshealth.domain.series import (
    charted,
    container_subject,
    flatten_containers,
    resolve_container_metric,
)

WEB = ContainerGroup(
    GroupKind.COOLIFY, "shop", "production", "web", uuid="tgw4s0kc0w88kso8g0gc8c0o"
)


def view(
    name: str,
    group: ContainerGroup | None = None,
    *,
    memory: int = 100,
    started: int | None = 1000,
    created: int = 900,
    state: ContainerState = ContainerState.RUNNING,
) -> ContainerView:
    container = Container(
        id=f"id-{name}",
        name=name,
        image="img",
        created=created,
        state=state,
        started_at=started,
        **({"group": group} if group else {}),
    )
    return ContainerView(container, ContainerMetrics(1.5, memory, None))


def test_an_app_container_is_keyed_by_its_identity_a_standalone_one_by_its_name() -> None:
    assert container_subject(view("tgw4s0kc0w88kso8g0gc8c0o-143012345678", WEB).container) == (
        "coolify/tgw4s0kc0w88kso8g0gc8c0o"
    )
    assert container_subject(view("redis").container) == "redis"


def test_two_deploys_of_one_app_write_the_same_series() -> None:
    before = flatten_containers((view("tgw4s0kc0w88kso8g0gc8c0o-101010000001", WEB),))
    after = flatten_containers((view("tgw4s0kc0w88kso8g0gc8c0o-202020000002", WEB),))
    assert [name for name, _ in before] == [name for name, _ in after]
    assert before == [
        ("container.cpu_percent:coolify/tgw4s0kc0w88kso8g0gc8c0o", 1.5),
        ("container.memory_bytes:coolify/tgw4s0kc0w88kso8g0gc8c0o", 100.0),
    ]


def test_during_a_rolling_update_the_series_follows_the_newest_running_container() -> None:
    old = view("tgw4s0kc0w88kso8g0gc8c0o-101010000001", WEB, memory=100, started=1000)
    new = view("tgw4s0kc0w88kso8g0gc8c0o-202020000002", WEB, memory=200, started=2000)
    for views in ((old, new), (new, old)):
        values = flatten_containers(views)
        assert values == [
            ("container.cpu_percent:coolify/tgw4s0kc0w88kso8g0gc8c0o", 1.5),
            ("container.memory_bytes:coolify/tgw4s0kc0w88kso8g0gc8c0o", 200.0),
        ]


def test_a_running_container_wins_over_a_newer_stopped_one_then_creation_time_decides() -> None:
    running = view("a", WEB, memory=1, started=1000)
    stopped = view("b", WEB, memory=2, started=3000, state=ContainerState.EXITED)
    assert charted((stopped, running))[WEB.identity or ""] is running
    first = view("c", WEB, memory=3, started=None, created=10)
    second = view("d", WEB, memory=4, started=None, created=20)
    assert charted((second, first))[WEB.identity or ""] is second


def test_members_and_previews_of_one_resource_are_series_of_their_own() -> None:
    preview = ContainerGroup(
        GroupKind.COOLIFY, "shop", "production", "web", uuid=WEB.uuid, pull_request=3
    )
    db = ContainerGroup(GroupKind.COOLIFY, "shop", "production", "web", uuid=WEB.uuid, member="db")
    subjects = charted((view("a", WEB), view("b", preview), view("c", db)))
    assert sorted(subjects) == [
        "coolify/tgw4s0kc0w88kso8g0gc8c0o",
        "coolify/tgw4s0kc0w88kso8g0gc8c0o/db",
        "coolify/tgw4s0kc0w88kso8g0gc8c0o/pr-3",
    ]


def test_short_names_of_the_container_series() -> None:
    assert resolve_container_metric("memory") == "container.memory_bytes"
    assert resolve_container_metric("mem") == "container.memory_bytes"
    assert resolve_container_metric("cpu") == "container.cpu_percent"
    assert resolve_container_metric("container.cpu_percent") == "container.cpu_percent"
    assert resolve_container_metric("disk") is None

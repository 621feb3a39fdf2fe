"""Picking a host's per-app container series by path, container name or identity."""

from __future__ import annotations

from tests.coolify_app import SECOND_DEPLOY, UUID, app_labels
from vpshealth.domain.containers import Container, ContainerMetrics, ContainerState, ContainerView
from vpshealth.read_model.container_series import ContainerChoice, choices, find
from vpshealth.store.docker_repository import StoredContainer


def stored(name: str, **labels: str) -> StoredContainer:
    container = Container(
        id=f"id-{name}",
        name=name,
        image="img",
        created=1,
        state=ContainerState.RUNNING,
        labels=tuple(sorted(labels.items())),
    )
    return StoredContainer(ContainerView(container, ContainerMetrics(None, None, None)), 1)


SERIES = [
    f"container.memory_bytes:coolify/{UUID}",
    f"container.memory_bytes:coolify/{UUID}/pr-3",
    "container.cpu_percent:redis",
    "container.cpu_percent:coolify/gone0uuid",
    "cpu.percent",
]
CONTAINERS = [
    stored(SECOND_DEPLOY, **app_labels(SECOND_DEPLOY)),
    stored(f"{UUID}-pr-3", **app_labels(f"{UUID}-pr-3", pull_request=3)),
    stored("redis"),
    stored("no-series"),
]


def test_every_subject_with_series_described_by_its_containers() -> None:
    found = choices(CONTAINERS, SERIES)
    assert [c.label for c in found] == [
        "shop / production / web",
        "shop / production / web (preview #3)",
        "coolify/gone0uuid",
        "redis",
    ]
    assert found[0] == ContainerChoice(
        f"coolify/{UUID}", "shop / production / web", None, 0, (SECOND_DEPLOY,)
    )
    assert found[0].path == "shop/production/web"
    assert found[2].path is None
    assert found[2].shown == "coolify/gone0uuid"


def test_find_by_path_name_or_identity_and_a_path_means_production() -> None:
    found = choices(CONTAINERS, SERIES)
    assert find(found, "shop/production/web") is found[0]
    assert find(found, "shop / production / web") is found[0]
    assert find(found, f"{UUID}-pr-3") is found[1]
    assert find(found, f"coolify/{UUID}/pr-3") is found[1]
    assert find(found, "coolify/gone0uuid") is found[2]
    assert find(found, "redis") is found[3]
    assert find(found, "no-series") is None
    assert find(found, "shop/production") is None


def test_a_member_is_part_of_the_path() -> None:
    db = ContainerChoice("coolify/x/db", "shop / production / stack", "db")
    web = ContainerChoice("coolify/x/web", "shop / production / stack", "web")
    assert db.path == "shop/production/stack/db"
    assert db.label == "shop / production / stack · db"
    assert find([db, web], "shop/production/stack/web") is web
    assert find([db, web], "shop/production/stack") is None

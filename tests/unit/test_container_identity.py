"""group_of over Coolify's real names and labels (tests/fixtures/docker/coolify, read from
coollabsio/coolify's source), the identity it gives, and how listings and the incident
tracker use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.collectors.docker_parsers import (
    ContainerSummary,
    parse_container_list,
    parse_event,
    parse_inspect,
)
from vpshealth.domain.container_identity import group_of
from vpshealth.domain.container_incidents import IncidentTracker
from vpshealth.domain.containers import (
    Container,
    ContainerGroup,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    GroupKind,
    IncidentKind,
)
from vpshealth.read_model import container_groups

COOLIFY = Path(__file__).parent.parent / "fixtures" / "docker" / "coolify"

APP = "vgsco4o4kw0gc4cgoc8o0g0k"
OLD = f"{APP}-101512345678"
NEW = f"{APP}-142233654321"
PREVIEW = f"{APP}-pr-12"
CMP = "j0ck0w4kc8g8gkcc0wo8kks4"
RAW = "r8wsk0c4sgc0kwgcs00ko8w4"
SVC = "h4g8ok0gsw8wcg0ckc4k8s84"
DB = "pgk4c0wwsso4o4k8ggw8sc0c"
T0 = 1_800_000_000


def listing() -> dict[str, ContainerSummary]:
    rows = parse_container_list((COOLIFY / "containers_list.json").read_bytes())
    return {row.name: row for row in rows}


def group(name: str) -> ContainerGroup:
    return listing()[name].group


def test_every_container_of_the_fixture_has_its_case() -> None:
    cases = json.loads((COOLIFY / "cases.json").read_text())
    assert set(cases) == set(listing())
    assert all(cases.values())


def test_dockerfile_app_with_a_timestamped_name() -> None:
    web = group(OLD)
    assert web == ContainerGroup(
        GroupKind.COOLIFY, "shop", "production", "web", "web", uuid=APP, pull_request=0
    )
    assert web.identity == f"coolify/{APP}"
    assert web.app == "shop / production / web"


def test_rolling_update_two_containers_are_one_app() -> None:
    assert group(OLD).identity == group(NEW).identity == f"coolify/{APP}"
    assert listing()[OLD].labels != listing()[NEW].labels  # compose service = the name


def test_preview_is_its_own_app() -> None:
    preview = group(PREVIEW)
    assert preview.pull_request == 12
    assert preview.identity == f"coolify/{APP}/pr-12"
    assert preview.app == "shop / production / web (PR #12)"
    assert preview.app_identity != group(OLD).app_identity


def test_compose_build_pack_members() -> None:
    web, worker = group(f"web-{CMP}-091501000001"), group(f"worker-{CMP}-091501000001")
    assert (web.uuid, web.member, worker.member) == (CMP, "web", "worker")
    assert web.identity == f"coolify/{CMP}/web"
    assert web.app == "shop / production / storefront / web"
    assert web.app_identity == worker.app_identity == f"coolify/{CMP}"


def test_raw_compose_app_has_only_its_three_labels() -> None:
    api = group(f"{RAW}-api-1")
    assert api == ContainerGroup(GroupKind.COOLIFY, uuid=RAW, member="api")
    assert api.identity == f"coolify/{RAW}/api"
    assert api.app is None


def test_service_stack_members_are_named_once() -> None:
    wordpress, mariadb = group(f"wordpress-{SVC}"), group(f"mariadb-{SVC}")
    assert wordpress.identity == f"coolify/{SVC}/wordpress"
    assert mariadb.identity == f"coolify/{SVC}/mariadb"
    assert wordpress.app == "blog / production / wordpress"  # member = resource: not repeated
    assert mariadb.app == "blog / production / wordpress / mariadb"
    assert wordpress.app_title == mariadb.app_title == "blog / production / wordpress"


def test_database_and_its_proxy() -> None:
    database, proxy = group(DB), group(f"{DB}-proxy")
    assert database.identity == f"coolify/{DB}"
    assert database.app == "shop / production / shop-db"
    assert proxy == ContainerGroup(GroupKind.COOLIFY, uuid=DB, member="proxy")
    assert proxy.identity == f"coolify/{DB}/proxy"
    assert proxy.app_identity == database.app_identity


@pytest.mark.parametrize(
    "name",
    [
        "coolify",
        "coolify-db",
        "coolify-redis",
        "coolify-realtime",
        "coolify-proxy",
        "coolify-sentinel",
        "coolify-cloudflared",
        "ws8w4ko0ckgs8ocs4cco4wg0",  # the coolify-helper build container
        "backup-of-t0g4wscog84s4c8kgs0kk4oc",
    ],
)
def test_coolify_infrastructure(name: str) -> None:
    assert group(name).infrastructure


def test_apps_are_not_infrastructure() -> None:
    apps = [row for row in listing().values() if row.labels and not row.name.startswith("coolify")]
    assert len(apps) == 10
    assert not any(row.group.infrastructure for row in apps)


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/coollabsio/coolify-helper:1.0.15",
        "coollabsio/coolify-helper",
        "localhost:5000/coollabsio/coolify-helper@sha256:ab",
    ],
)
def test_helper_image_is_infrastructure(image: str) -> None:
    assert group_of({}, "abc", image).infrastructure


def test_similar_images_are_not_the_helper() -> None:
    assert not group_of({}, "abc", "coollabsio/coolify-helper-fork:1").infrastructure
    assert not group_of({}, "abc", "example/coolify-helper").infrastructure


def test_restart_limit_removal() -> None:
    container = parse_inspect((COOLIFY / "inspect_restart_limit.json").read_bytes())
    assert (container.state, container.restart_count) == (ContainerState.RESTARTING, 10)
    assert container.group.identity == f"coolify/{APP}"
    lines = (COOLIFY / "events_restart_limit.jsonl").read_text().splitlines()
    events = [parse_event(line) for line in lines]
    assert [e.action for e in events if e is not None] == [
        "die", "start", "kill", "die", "stop", "destroy",
    ]  # fmt: skip
    attributes = json.loads(lines[0])["Actor"]["Attributes"]
    assert group_of(attributes, attributes["name"]).identity == f"coolify/{APP}"


def test_uuid_from_the_name_when_there_is_no_compose_project() -> None:
    labels = {"coolify.managed": "true", "coolify.type": "service"}
    assert group_of(labels, f"wordpress-{SVC}").uuid == SVC
    assert group_of({"coolify.managed": "true", "coolify.name": "x"}, "web").uuid == "x"
    swarm = {"coolify.managed": "true", "com.docker.stack.namespace": APP}
    assert group_of(swarm, f"{APP}_{APP}.1.abc").uuid == APP


def test_a_proxy_name_in_another_compose_project_is_not_a_database_proxy() -> None:
    labels = {"com.docker.compose.project": "mine", "com.docker.compose.service": "p"}
    assert group_of(labels, f"{DB}-proxy").kind is GroupKind.COMPOSE


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "coolify.managed",
                "coolify.type",
                "coolify.name",
                "coolify.pullRequestId",
                "coolify.projectName",
                "coolify.environmentName",
                "coolify.resourceName",
                "coolify.serviceName",
                "coolify.service.subName",
                "coolify.proxy",
                "com.docker.compose.project",
                "com.docker.compose.service",
                "com.docker.stack.namespace",
            ]
        )
        | st.text(max_size=20),
        st.sampled_from(["true", "0", "12", "service", "a:b", "x/y", " ", "²"]) | st.text(),
    ),
    st.text(min_size=1, max_size=80) | st.sampled_from([f"{DB}-proxy", f"{APP}-pr-3"]),
    st.text(max_size=60),
)
def test_group_of_never_raises_and_identity_has_no_colon(
    labels: dict[str, str], name: str, image: str
) -> None:
    grouped = group_of(labels, name, image)
    for identity in (grouped.identity, grouped.app_identity):
        assert identity is None or ":" not in identity
    assert grouped.pull_request >= 0
    _ = grouped.app, grouped.app_title


# --- listings -----------------------------------------------------------------------------


def view(row: ContainerSummary) -> ContainerView:
    container = Container(
        row.id, row.name, row.image, row.created, row.state, labels=row.labels, group=row.group
    )
    return ContainerView(container, ContainerMetrics(None, None, None))


def test_listing_groups_by_app_identity() -> None:
    rows = listing()
    apps = dict(container_groups.by_app([view(r) for r in rows.values()]))
    names = {title: sorted(v.container.name for v in views) for title, views in apps.items()}
    assert names["Coolify: shop / production / web"] == [OLD, NEW]
    assert names["Coolify: shop / production / web (PR #12)"] == [PREVIEW]
    assert names["Coolify: shop / production / shop-db"] == [DB, f"{DB}-proxy"]
    assert names["Coolify: blog / production / wordpress"] == [
        f"mariadb-{SVC}",
        f"wordpress-{SVC}",
    ]
    assert len(names["Coolify infrastructure"]) == 9


def test_two_apps_with_the_same_name_are_two_groups() -> None:
    rows = listing()
    other = ContainerSummary(
        "f" * 64,
        "zzzzzzzzzzzzzzzzzzzzzzzz-101512345678",
        "img",
        T0,
        ContainerState.RUNNING,
        labels=tuple(
            (k, "zzzzzzzzzzzzzzzzzzzzzzzz" if k == "com.docker.compose.project" else v)
            for k, v in rows[OLD].labels
        ),
    )
    apps = container_groups.by_app([view(rows[OLD]), view(other)])
    assert [title for title, _ in apps] == [
        f"Coolify: shop / production / web [{APP}]",
        "Coolify: shop / production / web [zzzzzzzzzzzzzzzzzzzzzzzz]",
    ]


# --- incidents (findings 4 and 5) ---------------------------------------------------------


def running(row: ContainerSummary, started: int = T0 - 600) -> Container:
    return Container(
        row.id,
        row.name,
        row.image,
        row.created,
        ContainerState.RUNNING,
        started_at=started,
        labels=row.labels,
        group=row.group,
    )


def test_a_running_preview_does_not_hide_productions_disappearance() -> None:
    rows = listing()
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [running(rows[OLD]), running(rows[PREVIEW])])
    changes = tracker.observe_listing(T0 + 60, [running(rows[PREVIEW])])
    assert [(c.kind, c.opened, c.container_name, c.app) for c in changes] == [
        (IncidentKind.DISAPPEARED, True, OLD, "shop / production / web")
    ]
    # the preview being up does not resolve it either
    assert tracker.observe_listing(T0 + 120, [running(rows[PREVIEW])]) == []


def test_a_running_sibling_does_not_hide_a_stack_member_that_disappeared() -> None:
    rows = listing()
    wordpress, mariadb = rows[f"wordpress-{SVC}"], rows[f"mariadb-{SVC}"]
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [running(wordpress), running(mariadb)])
    changes = tracker.observe_listing(T0 + 60, [running(wordpress)])
    assert [(c.kind, c.opened, c.container_name) for c in changes] == [
        (IncidentKind.DISAPPEARED, True, mariadb.name)
    ]
    assert changes[0].app == "blog / production / wordpress / mariadb"
    assert tracker.observe_listing(T0 + 120, [running(wordpress)]) == []


def test_a_redeploy_is_not_a_disappearance() -> None:
    rows = listing()
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [running(rows[OLD])])
    assert tracker.observe_listing(T0 + 60, [running(rows[NEW], T0 + 50)]) == []


def test_a_disappeared_app_is_back_when_a_new_container_of_it_runs() -> None:
    rows = listing()
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [running(rows[OLD]), running(rows[PREVIEW])])
    tracker.observe_listing(T0 + 60, [running(rows[PREVIEW])])
    changes = tracker.observe_listing(T0 + 120, [running(rows[PREVIEW]), running(rows[NEW])])
    assert [(c.kind, c.opened, c.container_name) for c in changes] == [
        (IncidentKind.DISAPPEARED, False, OLD)
    ]

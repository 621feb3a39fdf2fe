"""The read model every face reads through, against a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from vpshealth.app import Core, build_core
from vpshealth.collectors.docker_parsers import parse_container_list
from vpshealth.config import Settings
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    Severity,
)
from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.hosts import Host
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.store.docker_repository import ContainerCounts, replace_containers
from vpshealth.store.schema import events, incidents, notifications
from vpshealth.store.settings_keys import DESKTOP_MIN_SEVERITY_KEY

NOW = 1_800_000_000


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    built = build_core(Settings(home=tmp_path))
    try:
        yield built
    finally:
        built.close()


def _container(name: str, state: ContainerState) -> ContainerView:
    return ContainerView(
        Container(id=f"id-{name}", name=name, image="nginx", created=NOW - 60, state=state),
        ContainerMetrics(None, None, None),
    )


def _incident(
    core: Core, host_id: int, *, subject: str = "/", resolved_at: int | None = None
) -> None:
    with core.engine.begin() as conn:
        conn.execute(
            insert(incidents).values(
                host_id=host_id, kind="disk", subject=subject, container_id="", container_name="",
                severity="critical", opened_at=NOW - 600, resolved_at=resolved_at,
                message="disk / at 97%", value=97, threshold=95,
            )
        )  # fmt: skip


def test_fleet_counts_containers_incidents_and_the_every_host_snooze(core: Core) -> None:
    web = core.hosts.add(Host(name="web1", address="192.0.2.1"))
    core.results_writer().write([(web, CheckResult("web1", NOW, HostState.OK, None, "All good"))])
    with core.engine.begin() as conn:
        replace_containers(
            conn,
            web,
            [_container("a", ContainerState.RUNNING), _container("b", ContainerState.EXITED)],
            NOW,
        )
    _incident(core, web, subject="/")
    _incident(core, web, subject="/var")
    _incident(core, web, subject="/srv", resolved_at=NOW - 1)
    core.silences.snooze(None, NOW + 3600, NOW - 10)
    core.silences.snooze(web, NOW + 7200, NOW - 10)  # one host's: not the every-host snooze
    core.stored_settings.update({DESKTOP_MIN_SEVERITY_KEY: "critical"}, NOW)

    fleet = core.read_model.fleet(NOW)

    assert [r.host.name for r in fleet.records] == ["localhost", "web1"]
    assert fleet.states() == {web: HostState.OK}
    assert fleet.containers == {web: ContainerCounts(running=1, total=2)}
    assert fleet.open_incidents == {web: 2}
    assert fleet.snoozed_until == NOW + 3600
    assert fleet.desktop_min_severity is Severity.CRITICAL
    assert core.read_model.fleet(NOW + 3600).snoozed_until is None


def test_events_carry_host_names_and_host_detail_only_its_own(core: Core) -> None:
    web = core.hosts.add(Host(name="web1", address="192.0.2.1"))
    db = core.hosts.add(Host(name="db1", address="192.0.2.2"))
    with core.engine.begin() as conn:
        for host_id, at in ((web, NOW - 100), (db, NOW - 50), (web, NOW - 10)):
            conn.execute(
                insert(events).values(
                    host_id=host_id, at=at, kind="state_change", old_state="ok",
                    new_state="warning", message="load high",
                )
            )  # fmt: skip
    every = core.read_model.events(NOW - 60)
    assert [(e.host_name, e.at) for e in every] == [("db1", NOW - 50), ("web1", NOW - 10)]
    record = core.hosts.get("web1")
    detail = core.read_model.host_detail(record, NOW - 3600)
    assert detail.record == record
    assert [(e.host_name, e.at) for e in detail.events] == [
        ("web1", NOW - 100),
        ("web1", NOW - 10),
    ]
    assert detail.containers == []


def test_incidents_newest_first_open_only(core: Core) -> None:
    web = core.hosts.add(Host(name="web1", address="192.0.2.1"))
    _incident(core, web, subject="/srv", resolved_at=NOW - 1)
    _incident(core, web, subject="/")
    assert [i.is_open for i in core.read_model.incidents()] == [True, False]
    assert len(core.read_model.incidents(open_only=True)) == 1


def test_notifications_after_skips_unreadable_ones(core: Core) -> None:
    note = Notification(
        NotificationKind.OPENED, Severity.CRITICAL, "web1", "192.0.2.1", "disk", "/",
        "disk / full", "disk / at 97%", since=NOW - 60, at=NOW,
    )  # fmt: skip
    model = core.read_model
    assert model.last_notification_id() == 0
    with core.engine.begin() as conn:
        for payload in (json.dumps(note.to_json()), "{not json"):
            conn.execute(
                insert(notifications).values(
                    kind="opened", severity="critical", created_at=NOW, payload=payload,
                )
            )  # fmt: skip
    last, found = model.notifications_after(0)
    assert (last, found) == (2, [note])
    assert model.notifications_after(last) == (2, [])
    assert model.last_notification_id() == 2


def test_stored_containers_keep_their_app_identity(core: Core) -> None:
    """The identity (uuid, pull request, member) is rebuilt from the stored labels."""
    listing = (
        Path(__file__).parent.parent / "fixtures" / "docker" / "coolify" / "containers_list.json"
    )
    rows = parse_container_list(listing.read_bytes())
    views = [
        ContainerView(
            Container(r.id, r.name, r.image, r.created, r.state, labels=r.labels, group=r.group),
            ContainerMetrics(None, None, None),
        )
        for r in rows
    ]
    web = core.hosts.add(Host(name="web1", address="192.0.2.1"))
    with core.engine.begin() as conn:
        replace_containers(conn, web, views, NOW)
    stored = {s.view.container.name: s.view.container.group for s in core.docker.containers_of(web)}
    assert stored == {r.name: r.group for r in rows}
    assert (
        stored["vgsco4o4kw0gc4cgoc8o0g0k-pr-12"].identity
        == "coolify/vgsco4o4kw0gc4cgoc8o0g0k/pr-12"
    )
    assert (
        stored["pgk4c0wwsso4o4k8ggw8sc0c-proxy"].identity
        == "coolify/pgk4c0wwsso4o4k8ggw8sc0c/proxy"
    )

"""The server detail's containers: one group per app identity, as the CLI and API group them."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from vpshealth.collectors.docker_parsers import parse_container_list
from vpshealth.domain.containers import Container, ContainerMetrics, ContainerView
from vpshealth.gui.containers_view import ContainersView
from vpshealth.store.docker_repository import StoredContainer

LISTING = Path(__file__).parent.parent / "fixtures" / "docker" / "coolify" / "containers_list.json"
DB = "pgk4c0wwsso4o4k8ggw8sc0c"


def test_groups_are_apps_with_their_members(qtbot: QtBot) -> None:
    stored = [
        StoredContainer(
            ContainerView(
                Container(
                    r.id, r.name, r.image, r.created, r.state, labels=r.labels, group=r.group
                ),
                ContainerMetrics(None, None, None),
            ),
            0,
        )
        for r in parse_container_list(LISTING.read_bytes())
    ]
    view = ContainersView()
    qtbot.addWidget(view)
    view.set_containers(stored)
    groups = {}
    for i in range(view.topLevelItemCount()):
        item = view.topLevelItem(i)
        assert item is not None
        children = [item.child(j) for j in range(item.childCount())]
        groups[item.text(0).split("  (")[0]] = [c.toolTip(0) for c in children if c is not None]
    assert sorted(groups["Coolify: shop / production / shop-db"]) == [DB, f"{DB}-proxy"]
    assert "Coolify: shop / production / web (PR #12)" in groups
    stack = groups["Coolify: blog / production / wordpress"]
    assert len(stack) == 2
    assert len(groups["Coolify infrastructure"]) == 9

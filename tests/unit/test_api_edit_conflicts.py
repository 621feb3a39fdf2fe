"""PATCH /api/v1/hosts/{name} with ``expected``: per field, first to reach the node wins. A
field whose value on the node still equals the edit's base changes; a field changed there
meanwhile keeps its value and is answered in ``kept``; all in one transaction. Every write
rings the live stream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpshealth.api.app import create_app
from vpshealth.app import Core
from vpshealth.domain.hosts import Host
from vpshealth.domain.live import LiveKind
from vpshealth.engine.live_hub import LiveHub
from vpshealth.engine.status import EngineStatus
from vpshealth.operations.hosts import HostOperations
from vpshealth.store.live_log import LiveLog

from .ssh_server_support import server
from .test_api_writes import client, context, core, keyring, private_key, secrets_dir, web

__all__ = ["client", "context", "core", "keyring", "private_key", "secrets_dir", "server", "web"]


def test_a_field_changed_on_the_node_meanwhile_keeps_its_value_and_is_answered(
    client: TestClient, core: Core, web: Host
) -> None:
    client.patch("/api/v1/hosts/web1", json={"interval_seconds": 75})  # the other desktop
    answer = client.patch(
        "/api/v1/hosts/web1",
        json={
            "interval_seconds": 120,
            "tags": ["prod"],
            "expected": {"interval_seconds": web.interval_seconds, "tags": []},
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["kept"] == [{"field": "interval_seconds", "kept": 75, "lost": 120}]
    host = core.hosts.get("web1").host
    assert (host.interval_seconds, host.tags) == (75, ("prod",))


def test_without_a_conflict_every_field_changes_and_nothing_is_kept(
    client: TestClient, core: Core, web: Host
) -> None:
    answer = client.patch("/api/v1/hosts/web1", json={"port": 2200, "expected": {"port": web.port}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["kept"] == []
    assert core.hosts.get("web1").host.port == 2200


def test_an_edit_sent_again_finds_its_own_value_and_is_no_conflict(
    client: TestClient, web: Host
) -> None:
    body = {"interval_seconds": 90, "expected": {"interval_seconds": web.interval_seconds}}
    assert client.patch("/api/v1/hosts/web1", json=body).json()["kept"] == []
    assert client.patch("/api/v1/hosts/web1", json=body).json()["kept"] == []


def test_an_unknown_field_in_expected_is_refused_by_name(client: TestClient, web: Host) -> None:
    answer = client.patch("/api/v1/hosts/web1", json={"port": 2200, "expected": {"colour": "blue"}})
    assert answer.status_code == 422, answer.text
    assert "colour" in answer.text


FIELDS = {"interval_seconds": st.integers(10, 3600), "port": st.integers(1, 65535)}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.fixed_dictionaries(FIELDS),
    meanwhile=st.dictionaries(st.sampled_from(sorted(FIELDS)), st.integers(10, 3600)),
    mine=st.dictionaries(st.sampled_from(sorted(FIELDS)), st.integers(10, 3600), min_size=1),
)
def test_the_rule_holds_for_any_two_edits(
    core: Core,
    web: Host,
    start: dict[str, int],
    meanwhile: dict[str, int],
    mine: dict[str, int],
) -> None:
    hosts = core.operations.hosts
    hosts.edit("web1", start)
    if meanwhile:
        hosts.edit("web1", meanwhile)
    done = hosts.edit_from("web1", mine, {f: start[f] for f in mine})
    now = core.hosts.get("web1").host
    for field, value in mine.items():
        changed_there = field in meanwhile and meanwhile[field] not in (start[field], value)
        expected = meanwhile[field] if changed_there else value
        assert getattr(now, field) == expected, field
    assert {k.field for k in done.kept} == {
        f for f in mine if f in meanwhile and meanwhile[f] not in (start[f], mine[f])
    }


def test_nothing_is_stored_when_the_edited_host_is_not_valid(core: Core, web: Host) -> None:
    hosts: HostOperations = core.operations.hosts
    hosts.edit("web1", {"interval_seconds": 75})
    with pytest.raises(Exception, match="port"):
        hosts.edit_from("web1", {"interval_seconds": 120, "port": 0}, {"interval_seconds": 60})
    assert core.hosts.get("web1").host.interval_seconds == 75


@pytest.fixture
def rung(core: Core) -> Iterator[tuple[TestClient, LiveLog]]:
    rang = core.api_context(EngineStatus(running=True, poll_timeout=10), live=LiveHub())
    token = rang.tokens.create("bell").token
    with TestClient(create_app(rang), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c, LiveLog(core.engine)


def _changes(live: LiveLog) -> list[Any]:
    return list(live.after(0, {LiveKind.CHANGE}))


def test_a_write_rings_the_live_stream_and_a_refused_one_does_not(
    rung: tuple[TestClient, LiveLog], web: Host
) -> None:
    client, live = rung
    assert client.patch("/api/v1/hosts/web1", json={"port": 0}).status_code == 422
    assert _changes(live) == []
    assert client.patch("/api/v1/hosts/web1", json={"port": 2200}).status_code == 200
    assert client.get("/api/v1/hosts/web1").status_code == 200
    assert len(_changes(live)) == 1

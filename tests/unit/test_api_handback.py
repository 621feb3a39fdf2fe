"""``POST /api/v1/sync/handback`` in-process against a real SQLite file and the context app.py
builds: a desktop's incidents marked on the node by identity; a read-only token is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from tests.unit.fake_clock import FakeClock
from vpshealth.api.app import create_app
from vpshealth.app import Core, build_core
from vpshealth.config import Settings
from vpshealth.domain.hosts import Host
from vpshealth.engine.status import EngineStatus
from vpshealth.secrets import SecretStore
from vpshealth.store.schema import incidents

from .operations_support import MemoryKeyring

NOW = 1_800_000_000


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    built = build_core(Settings(home=tmp_path / "home"), secrets=SecretStore(MemoryKeyring()))
    built.clock = FakeClock(float(NOW))
    try:
        yield built
    finally:
        built.close()


def _client(core: Core, *, read_only: bool = False) -> TestClient:
    context = core.api_context(EngineStatus(running=True, started_at=NOW, poll_timeout=10))
    token = context.tokens.create("desktop", read_only=read_only).token
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})


def _body(host_id: int) -> dict[str, object]:
    item = {
        "host_id": host_id, "rule": "unreachable", "subject": "", "opened_at": NOW,
        "severity": "critical", "message": "not answering", "notified_at": NOW,
    }  # fmt: skip
    return {"incidents": [item]}


def test_the_node_marks_the_desktops_incident_as_told(core: Core) -> None:
    host_id = core.hosts.add(Host(name="web1", address="203.0.113.1"))
    with core.engine.begin() as conn:
        conn.execute(
            insert(incidents).values(
                host_id=host_id, kind="unreachable", subject="", container_id="",
                container_name="", severity="critical", opened_at=NOW + 40, message="down",
            )
        )  # fmt: skip
    with _client(core) as client:
        answer = client.post("/api/v1/sync/handback", json=_body(host_id))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"marked": 1, "resolved": 0, "recorded": 0}
    with core.engine.connect() as conn:
        assert conn.execute(select(incidents.c.last_notified_at)).scalar() == NOW


def test_a_read_only_token_may_not_hand_back(core: Core) -> None:
    with _client(core, read_only=True) as client:
        answer = client.post("/api/v1/sync/handback", json=_body(1))
    assert answer.status_code == 403, answer.text


def test_a_malformed_hand_back_names_the_field(core: Core) -> None:
    with _client(core) as client:
        answer = client.post("/api/v1/sync/handback", json={"incidents": [{"host_id": 1}]})
    assert answer.status_code == 422, answer.text

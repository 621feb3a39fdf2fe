"""The channel routes in-process, against a real SQLite file and the context app.py builds: a
URL goes in and only its masked form comes out; a bad URL is a 422 naming `url` with nothing
saved; a test message that is not taken is a 400 with the service's reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.unit.fake_clock import FakeClock
from vpshealth.api.app import create_app
from vpshealth.app import Core, build_core
from vpshealth.config import Settings
from vpshealth.engine.status import EngineStatus
from vpshealth.secrets import SecretStore

from .operations_support import MemoryKeyring

NOW = 1_800_000_000
SECRET = "tk_Sup3rSecretT0kenValue"


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def core(tmp_path: Path, keyring: MemoryKeyring) -> Iterator[Core]:
    built = build_core(Settings(home=tmp_path / "home"), secrets=SecretStore(keyring))
    built.clock = FakeClock(float(NOW))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    context = core.api_context(EngineStatus(running=True, started_at=NOW, poll_timeout=10))
    token = context.tokens.create("tests").token
    with TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def test_add_list_change_remove(client: TestClient, keyring: MemoryKeyring) -> None:
    answer = client.post(
        "/api/v1/channels",
        json={"name": "phone", "url": f"ntfys://{SECRET}@ntfy.sh/alerts", "batch_seconds": 0},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["url"] == "ntfys://…@ntfy.sh/alerts"
    assert SECRET not in answer.text
    listed = client.get("/api/v1/channels").json()["channels"]
    assert [(c["name"], c["service"], c["enabled"]) for c in listed] == [("phone", "ntfy", True)]
    changed = client.patch(
        "/api/v1/channels/phone", json={"enabled": False, "min_severity": "critical"}
    )
    assert (changed.json()["enabled"], changed.json()["min_severity"]) == (False, "critical")
    assert client.delete("/api/v1/channels/phone").status_code == 204
    assert client.get("/api/v1/channels").json() == {"channels": []}
    assert keyring.secrets == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "phone", "url": "bogus://example.com"}, "url"),
        ({"name": "phone", "url": "ntfy://127.0.0.1/t", "min_severity": "loud"}, "min_severity"),
        ({"name": "two words", "url": "ntfy://127.0.0.1/t"}, "name"),
        ({"name": "phone", "url": "ntfy://127.0.0.1/t", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, keyring: MemoryKeyring, body: dict[str, str], field: str
) -> None:
    answer = client.post("/api/v1/channels", json=body)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert keyring.secrets == {}
    assert client.get("/api/v1/channels").json() == {"channels": []}


def test_no_rename_unknown_names_and_conflicts(client: TestClient) -> None:
    client.post("/api/v1/channels", json={"name": "phone", "url": "ntfy://127.0.0.1/t"})
    assert client.patch("/api/v1/channels/phone", json={"name": "x"}).status_code == 422
    assert client.patch("/api/v1/channels/nope", json={"enabled": True}).status_code == 404
    assert client.delete("/api/v1/channels/nope").status_code == 404
    again = client.post("/api/v1/channels", json={"name": "phone", "url": "ntfy://127.0.0.1/t"})
    assert again.status_code == 409


def test_a_test_message_not_taken_is_a_400_with_the_reason(client: TestClient) -> None:
    client.post("/api/v1/channels", json={"name": "hook", "url": "json://127.0.0.1:9/hook"})
    answer = client.post("/api/v1/channels/hook/test")
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("channel hook: the test was not sent: JSON")

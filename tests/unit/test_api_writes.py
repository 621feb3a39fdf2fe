"""The API's write routes, in-process against a real SQLite file and the context app.py builds:
hosts with trust on first use (against asyncssh's own server on loopback), rules, acks,
snoozes and maintenance windows; every refusal names the field and leaves nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from tests.unit.fake_clock import FakeClock
from vpshealth.api.app import create_app
from vpshealth.api.context import ApiContext
from vpshealth.app import Core, build_core
from vpshealth.config import Settings
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.engine.status import EngineStatus
from vpshealth.operations.login_keys import key_from_text
from vpshealth.read_model import json_shapes
from vpshealth.secrets import SecretStore
from vpshealth.store.schema import incidents

from .operations_support import MemoryKeyring
from .ssh_server_support import Server, closed_port, server

__all__ = ["server"]  # the fixture

NOW = 1_800_000_000


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir()
    return folder


@pytest.fixture
def core(tmp_path: Path, keyring: MemoryKeyring, secrets_dir: Path) -> Iterator[Core]:
    settings = Settings(home=tmp_path / "home", connect_timeout=5, secrets_dir=secrets_dir)
    built = build_core(settings, secrets=SecretStore(keyring))
    built.clock = FakeClock(float(NOW))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def context(core: Core) -> ApiContext:
    return core.api_context(EngineStatus(running=True, started_at=NOW, poll_timeout=10))


@pytest.fixture
def client(context: ApiContext) -> Iterator[TestClient]:
    token = context.tokens.create("tests").token
    with TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.fixture
def private_key() -> str:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_private_key().decode()


def _new_host(server: Server, **login: Any) -> dict[str, Any]:
    return {"name": "web1", "address": "127.0.0.1", "port": server.port, "user": "deploy", **login}


def _field(answer: Any) -> str:
    assert answer.status_code == 422, answer.text
    fields: list[str] = [e["field"] for e in answer.json()["errors"]]
    return fields[0]


def _nothing_saved(core: Core, keyring: MemoryKeyring) -> None:
    assert core.hosts.find("web1") is None
    assert keyring.secrets == {}


# --- POST /api/v1/hosts: trust on first use in two steps ---


def test_without_a_fingerprint_the_answer_is_409_with_it_and_nothing_is_saved(
    client: TestClient, core: Core, keyring: MemoryKeyring, server: Server, private_key: str
) -> None:
    answer = client.post("/api/v1/hosts", json=_new_host(server, private_key=private_key))
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["host_key_fingerprint"] == server.fingerprint
    assert body["algorithm"] == "ssh-ed25519"
    assert server.fingerprint in body["detail"]
    assert "repeat the request with" in body["detail"]
    assert "Nothing was saved" in body["detail"]
    _nothing_saved(core, keyring)
    assert client.get("/api/v1/hosts/web1").status_code == 404


def test_with_the_fingerprint_the_host_is_saved_with_its_key(
    client: TestClient, core: Core, keyring: MemoryKeyring, server: Server, private_key: str
) -> None:
    listed_before = client.get("/api/v1/hosts").json()["hosts"]
    body = _new_host(
        server, private_key=private_key, host_key_fingerprint=server.fingerprint, tags=["prod"]
    )
    answer = client.post("/api/v1/hosts", json=body)
    assert answer.status_code == 201, answer.text
    saved = core.hosts.get("web1")
    assert answer.json() == {**json_shapes.host_json(saved), "authorized_keys_line": None}
    assert saved.host.host_key == server.line
    assert saved.host.tags == ("prod",)
    assert saved.host.auth is AuthMethod.KEY
    assert core.secrets.get(saved.host.key_ref or "") == private_key
    assert len(client.get("/api/v1/hosts").json()["hosts"]) == len(listed_before) + 1


def test_a_key_secret_is_read_from_the_secrets_folder(
    client: TestClient, core: Core, server: Server, private_key: str, secrets_dir: Path
) -> None:
    (secrets_dir / "web1_key").write_text(private_key)
    body = _new_host(server, key_secret="web1_key", host_key_fingerprint=server.fingerprint)
    answer = client.post("/api/v1/hosts", json=body)
    assert answer.status_code == 201, answer.text
    assert core.secrets.get(core.hosts.get("web1").host.key_ref or "") == private_key


def test_a_missing_or_bad_key_secret_is_422_naming_it(
    client: TestClient, core: Core, keyring: MemoryKeyring, server: Server, secrets_dir: Path
) -> None:
    missing = client.post("/api/v1/hosts", json=_new_host(server, key_secret="nope"))
    assert _field(missing) == "key_secret"
    assert f"there is no secret nope in {secrets_dir}" in missing.json()["detail"]
    assert _field(client.post("/api/v1/hosts", json=_new_host(server, key_secret="../x"))) == (
        "key_secret"
    )
    (secrets_dir / "junk").write_text("not a key")
    junk = client.post("/api/v1/hosts", json=_new_host(server, key_secret="junk"))
    assert _field(junk) == "key_secret"
    assert "not a private key" in junk.json()["detail"]
    _nothing_saved(core, keyring)


def test_generate_key_answers_the_authorized_keys_line(
    client: TestClient, core: Core, server: Server
) -> None:
    body = _new_host(server, generate_key=True, host_key_fingerprint=server.fingerprint)
    answer = client.post("/api/v1/hosts", json=body)
    assert answer.status_code == 201, answer.text
    line = answer.json()["authorized_keys_line"]
    assert line.startswith("ssh-ed25519 ")
    assert line.endswith("vpshealth@web1")
    stored = core.secrets.get(core.hosts.get("web1").host.key_ref or "")
    assert stored is not None
    assert (
        asyncssh.import_private_key(stored).export_public_key().decode().split()[:2]
        == (line.split()[:2])
    )


@pytest.mark.parametrize(
    "login",
    [{}, {"generate_key": False}, {"generate_key": True, "key_secret": "web1_key"}],
    ids=["none", "generate-false", "two"],
)
def test_exactly_one_login_is_needed(
    client: TestClient, core: Core, keyring: MemoryKeyring, server: Server, login: dict[str, Any]
) -> None:
    answer = client.post("/api/v1/hosts", json=_new_host(server, **login))
    assert _field(answer) == "login"
    assert "exactly one of key_secret, private_key or generate_key" in answer.json()["detail"]
    _nothing_saved(core, keyring)


def test_a_wrong_fingerprint_is_422_naming_it_and_nothing_is_saved(
    client: TestClient, core: Core, keyring: MemoryKeyring, server: Server, private_key: str
) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").get_fingerprint("sha256")
    body = _new_host(server, private_key=private_key, host_key_fingerprint=other)
    answer = client.post("/api/v1/hosts", json=body)
    assert _field(answer) == "host_key_fingerprint"
    assert server.fingerprint in answer.json()["detail"]
    malformed = client.post("/api/v1/hosts", json={**body, "host_key_fingerprint": "SHA256:short"})
    assert _field(malformed) == "host_key_fingerprint"
    _nothing_saved(core, keyring)


def test_an_unreachable_server_is_422_naming_the_address(
    client: TestClient, core: Core, keyring: MemoryKeyring, private_key: str
) -> None:
    body = {"name": "web1", "address": "127.0.0.1", "port": closed_port(), "generate_key": True}
    answer = client.post("/api/v1/hosts", json=body)
    assert _field(answer) == "address"
    assert "web1: cannot read the host key" in answer.json()["detail"]
    _nothing_saved(core, keyring)


def test_invalid_fields_name_the_field_before_anything_is_fetched(
    client: TestClient, core: Core, keyring: MemoryKeyring
) -> None:
    base = {"name": "web1", "address": "192.0.2.1", "generate_key": True}
    assert _field(client.post("/api/v1/hosts", json={**base, "port": 70000})) == "port"
    assert _field(client.post("/api/v1/hosts", json={**base, "address": "a b"})) == "address"
    assert _field(client.post("/api/v1/hosts", json={**base, "colour": "red"})) == "colour"
    assert _field(client.post("/api/v1/hosts", json={**base, "interval_seconds": 1})) == (
        "interval_seconds"
    )
    bad_key = client.post("/api/v1/hosts", json={**base, "generate_key": False, "private_key": "x"})
    assert _field(bad_key) == "private_key"
    taken = client.post("/api/v1/hosts", json={**base, "name": "localhost"})
    assert taken.status_code == 409
    assert "already exists" in taken.json()["detail"]
    _nothing_saved(core, keyring)


def test_a_read_only_token_cannot_write(context: ApiContext, server: Server) -> None:
    token = context.tokens.create("reader", read_only=True).token
    with TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"}) as c:
        for method, path, body in [
            ("POST", "/api/v1/hosts", _new_host(server, generate_key=True)),
            ("PATCH", "/api/v1/hosts/localhost", {"enabled": False}),
            ("DELETE", "/api/v1/hosts/localhost", None),
            ("PATCH", "/api/v1/rules", {"disk.warning": 80}),
            ("PATCH", "/api/v1/hosts/localhost/rules", {"disk.warning": 80}),
            ("POST", "/api/v1/incidents/1/ack", None),
            ("POST", "/api/v1/incidents/ack", {"ids": [1]}),
            ("POST", "/api/v1/snoozes", {"all": True, "duration": "1h"}),
            ("DELETE", "/api/v1/snoozes?all=true", None),
            ("POST", "/api/v1/maintenance-windows", {"all": True, "duration": "1h"}),
            ("DELETE", "/api/v1/maintenance-windows/1", None),
        ]:
            answer = c.request(method, path, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
    assert context.read_model.hosts.find("localhost") is not None


# --- PATCH and DELETE /api/v1/hosts/{name} ---


OLD_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBGG3lx0XbS7n0zsFr8MRTnQOsRcJ3ok1Fq0EPYX0vAs"
"""Pinned before the server was "rebuilt" with the key the test server presents."""


@pytest.fixture
def web(core: Core, server: Server, private_key: str) -> Host:
    fields = {"name": "web1", "address": "127.0.0.1", "port": server.port}
    core.operations.hosts.add(fields, key_from_text(private_key, None), OLD_HOST_KEY)
    return core.hosts.get("web1").host


def test_patch_changes_the_given_fields_only(client: TestClient, core: Core, web: Host) -> None:
    answer = client.patch(
        "/api/v1/hosts/web1", json={"interval_seconds": 60, "tags": ["a", "b"], "enabled": False}
    )
    assert answer.status_code == 200, answer.text
    host = core.hosts.get("web1").host
    assert (host.interval_seconds, host.tags, host.enabled) == (60, ("a", "b"), False)
    assert host.address == web.address
    assert host.key_ref == web.key_ref
    assert answer.json()["enabled"] is False
    assert client.get("/api/v1/hosts").json()["hosts"][1]["enabled"] is False


def test_patch_with_a_fingerprint_trusts_the_key_the_server_presents_now(
    client: TestClient, core: Core, web: Host, server: Server
) -> None:
    answer = client.patch("/api/v1/hosts/web1", json={"host_key_fingerprint": server.fingerprint})
    assert answer.status_code == 200, answer.text
    assert core.hosts.get("web1").host.host_key == server.line
    assert answer.json()["host_key_fingerprint"] == server.fingerprint


def test_patch_with_a_new_key_deletes_the_old_one(
    client: TestClient, core: Core, web: Host, keyring: MemoryKeyring
) -> None:
    answer = client.patch("/api/v1/hosts/web1", json={"generate_key": True})
    assert answer.status_code == 200, answer.text
    assert answer.json()["authorized_keys_line"].startswith("ssh-ed25519 ")
    new_ref = core.hosts.get("web1").host.key_ref
    assert new_ref != web.key_ref
    assert [ref for _, ref in keyring.secrets] == [new_ref]


def test_patch_refusals_name_the_field_and_change_nothing(
    client: TestClient, core: Core, web: Host, keyring: MemoryKeyring
) -> None:
    before = dict(keyring.secrets)
    assert _field(client.patch("/api/v1/hosts/web1", json={"port": 0})) == "port"
    assert _field(client.patch("/api/v1/hosts/web1", json={"key_secret": "nope"})) == "key_secret"
    two = {"generate_key": True, "private_key": "x"}
    assert _field(client.patch("/api/v1/hosts/web1", json=two)) == "login"
    local = client.patch("/api/v1/hosts/localhost", json={"address": "192.0.2.9"})
    assert _field(local) == "address"
    nothing = client.patch("/api/v1/hosts/web1", json={})
    assert nothing.status_code == 400
    assert "Nothing to change" in nothing.json()["detail"]
    unknown = client.patch("/api/v1/hosts/web9", json={"enabled": False})
    assert unknown.status_code == 404
    assert "GET /api/v1/hosts lists the hosts" in unknown.json()["detail"]
    assert core.hosts.get("web1").host == web
    assert keyring.secrets == before


def test_patch_renames_a_host_unless_the_name_is_taken(
    client: TestClient, core: Core, web: Host
) -> None:
    taken = client.patch("/api/v1/hosts/web1", json={"name": "localhost"})
    assert taken.status_code == 409
    assert "already exists" in taken.json()["detail"]
    renamed = client.patch("/api/v1/hosts/web1", json={"name": "web2"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "web2"
    assert core.hosts.find("web1") is None
    assert core.hosts.get("web2").host.key_ref == web.key_ref


def test_delete_forgets_the_host_and_its_key(
    client: TestClient, core: Core, web: Host, keyring: MemoryKeyring
) -> None:
    assert client.get("/api/v1/hosts").status_code == 200
    answer = client.delete("/api/v1/hosts/web1")
    assert answer.status_code == 204
    assert answer.content == b""
    _nothing_saved(core, keyring)
    assert [h["name"] for h in client.get("/api/v1/hosts").json()["hosts"]] == ["localhost"]
    assert client.delete("/api/v1/hosts/web1").status_code == 404


# --- rules ---


def test_rules_are_set_and_reset_and_answered_as_get_answers_them(
    client: TestClient, web: Host
) -> None:
    changed = client.patch("/api/v1/rules", json={"disk.warning": 70, "cpu.critical": 99})
    assert changed.status_code == 200, changed.text
    assert changed.json() == client.get("/api/v1/rules").json()
    assert changed.json()["rules"]["disk.warning"]["value"] == 70
    assert changed.json()["rules"]["disk.warning"]["set_here"] is True
    mine = client.patch("/api/v1/hosts/web1/rules", json={"disk.warning": 60})
    assert mine.json() == client.get("/api/v1/hosts/web1/rules").json()
    assert mine.json()["rules"]["disk.warning"] == {
        "value": 60, "set_here": True, "default": 85, "unit": "%",
    }  # fmt: skip
    reset = client.patch("/api/v1/hosts/web1/rules", json={"disk.warning": None})
    assert reset.json()["rules"]["disk.warning"]["value"] == 70
    assert reset.json()["rules"]["disk.warning"]["set_here"] is False


def test_a_bad_rule_is_422_naming_it_and_none_is_stored(client: TestClient, web: Host) -> None:
    before = client.get("/api/v1/rules").json()
    unknown = client.patch("/api/v1/rules", json={"disk.warning": 70, "disk.colour": 1})
    assert _field(unknown) == "rules.disk.colour"
    conflict = client.patch("/api/v1/rules", json={"disk.warning": 99, "disk.critical": 90})
    assert _field(conflict).startswith("rules.disk.")
    assert _field(client.patch("/api/v1/rules", json={"disk.warning": "lots"})) == (
        "rules.disk.warning"
    )
    assert client.get("/api/v1/rules").json() == before
    assert client.patch("/api/v1/hosts/web9/rules", json={}).status_code == 404


# --- incidents ---


def _incident(core: Core, host_id: int, *, resolved: bool = False) -> int:
    with core.engine.begin() as conn:
        result = conn.execute(
            insert(incidents).values(
                host_id=host_id, kind="disk", subject="/", container_id="", container_name="",
                severity="critical", opened_at=NOW - 600, resolved_at=NOW - 1 if resolved else None,
                message="disk / at 97%", value=97, threshold=95,
            )
        )  # fmt: skip
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def test_an_incident_is_acknowledged(client: TestClient, core: Core, web: Host) -> None:
    host_id = core.hosts.get("web1").id
    open_id, resolved_id = _incident(core, host_id), _incident(core, host_id, resolved=True)
    answer = client.post(f"/api/v1/incidents/{open_id}/ack")
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "acknowledged"
    assert answer.json()["acknowledged_at"] == json_shapes.iso_time(NOW)
    assert client.post(f"/api/v1/incidents/{open_id}/ack").json() == answer.json()
    resolved = client.post(f"/api/v1/incidents/{resolved_id}/ack")
    assert resolved.status_code == 409
    assert "resolved already" in resolved.json()["detail"]
    missing = client.post("/api/v1/incidents/999/ack")
    assert missing.status_code == 404
    assert "GET /api/v1/incidents?open=true" in missing.json()["detail"]
    assert client.post("/api/v1/incidents/0/ack").status_code == 422
    assert client.post(f"/api/v1/incidents/{2**70}/ack").status_code == 422
    many = client.post("/api/v1/incidents/ack", json={"ids": [open_id, resolved_id, 999]})
    assert many.json() == {
        "results": [
            {"id": open_id, "outcome": "already acknowledged"},
            {"id": resolved_id, "outcome": "resolved"},
            {"id": 999, "outcome": "unknown"},
        ]
    }
    assert _field(client.post("/api/v1/incidents/ack", json={"ids": []})) == "ids"


# --- snoozes and maintenance windows ---


def test_a_snooze_is_answered_as_get_silences_lists_it_and_ends(
    client: TestClient, web: Host
) -> None:
    answer = client.post("/api/v1/snoozes", json={"host": "web1", "duration": "2h", "reason": "x"})
    assert answer.status_code == 201, answer.text
    snooze = answer.json()
    assert (snooze["host"], snooze["kind"], snooze["active"]) == ("web1", "snooze", True)
    assert snooze["ends_at"] == json_shapes.iso_time(NOW + 7200)
    assert client.get("/api/v1/silences").json()["windows"] == [snooze]
    every = client.post("/api/v1/snoozes", json={"all": True, "until": "2027-02-01T00:00:00Z"})
    assert every.status_code == 201, every.text
    assert every.json()["host"] is None
    assert every.json()["ends_at"] == "2027-02-01T00:00:00Z"
    assert client.delete("/api/v1/snoozes", params={"host": "web1"}).json() == {"ended": 1}
    assert client.delete("/api/v1/snoozes", params={"all": "true"}).json() == {"ended": 1}
    assert [w["active"] for w in client.get("/api/v1/silences").json()["windows"]] == []


def test_snooze_refusals_name_the_field(client: TestClient, web: Host) -> None:
    def post(body: dict[str, Any]) -> str:
        return _field(client.post("/api/v1/snoozes", json=body))

    assert post({"duration": "2h"}) == "host"
    assert post({"host": "web1", "all": True, "duration": "2h"}) == "host"
    assert post({"host": "web9", "duration": "2h"}) == "host"
    assert post({"host": "web1"}) == "duration"
    assert post({"host": "web1", "duration": "soon"}) == "duration"
    assert post({"host": "web1", "duration": 2**62}) == "duration"
    assert post({"host": "web1", "until": "yesterday"}) == "until"
    assert post({"host": "web1", "until": NOW - 5}) == "until"
    assert post({"host": "web1", "until": "0001-01-01T00:00:00+05:00"}) == "until"
    ended = client.delete("/api/v1/snoozes")
    assert ended.status_code == 422
    assert ended.json()["errors"][0] == {
        "field": "host", "where": "query",
        "message": "name a host, or set all: true for every host (not both)",
    }  # fmt: skip
    assert client.get("/api/v1/silences").json()["windows"] == []


def test_maintenance_windows_are_added_and_removed(client: TestClient, web: Host) -> None:
    one_off = client.post(
        "/api/v1/maintenance-windows",
        json={"host": "web1", "start": "2027-02-01T08:00:00Z", "duration": "90m"},
    )
    assert one_off.status_code == 201, one_off.text
    assert one_off.json()["starts_at"] == "2027-02-01T08:00:00Z"
    assert one_off.json()["ends_at"] == "2027-02-01T09:30:00Z"
    now = client.post("/api/v1/maintenance-windows", json={"all": True, "duration": 3600})
    assert now.json()["active"] is True
    weekly = client.post(
        "/api/v1/maintenance-windows", json={"all": True, "weekly": "sun 03:00", "duration": "2h"}
    )
    assert weekly.status_code == 201, weekly.text
    listed = client.get("/api/v1/silences").json()["windows"]
    assert listed == [one_off.json(), now.json(), weekly.json()]
    assert client.delete(f"/api/v1/maintenance-windows/{now.json()['id']}").status_code == 204
    missing = client.delete(f"/api/v1/maintenance-windows/{now.json()['id']}")
    assert missing.status_code == 404
    assert "GET /api/v1/silences lists them" in missing.json()["detail"]
    assert len(client.get("/api/v1/silences").json()["windows"]) == 2


def test_maintenance_window_refusals_name_the_field(client: TestClient, web: Host) -> None:
    def post(body: dict[str, Any]) -> str:
        return _field(client.post("/api/v1/maintenance-windows", json=body))

    assert post({"host": "web1"}) == "duration"
    assert post({"host": "web1", "duration": "0m"}) == "duration"
    assert post({"host": "web1", "duration": "2h", "start": "soon"}) == "start"
    assert post({"host": "web1", "duration": "2h", "weekly": "someday"}) == "weekly"
    assert post({"host": "web1", "duration": "2h", "weekly": "sun 03:00", "start": 5}) == "start"
    assert post({"duration": "2h"}) == "host"
    assert client.get("/api/v1/silences").json()["windows"] == []


# --- e-mail settings ---


def test_email_settings_are_changed_and_the_password_is_never_answered(
    client: TestClient, core: Core, keyring: MemoryKeyring
) -> None:
    before = client.get("/api/v1/settings/email")
    assert before.status_code == 200, before.text
    assert before.json()["configured"] is False
    body = {
        "smtp_host": "smtp.example.com",
        "user": "alerts",
        "from": "vpshealth@example.com",
        "to": ["ops@example.com"],
        "password": "s3cret-for-the-test",
    }
    answer = client.patch("/api/v1/settings/email", json=body)
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown == client.get("/api/v1/settings/email").json()
    assert shown["configured"] is True
    values = {s["setting"]: (s["value"], s["source"]) for s in shown["settings"]}
    assert values["email.smtp_host"] == ("smtp.example.com", "stored")
    assert values["email.from"] == ("vpshealth@example.com", "stored")
    assert values["email.smtp_port"] == (587, "default")
    assert shown["password"].startswith("set")
    assert "s3cret-for-the-test" not in answer.text
    assert "s3cret-for-the-test" in keyring.secrets.values()
    reset = client.patch("/api/v1/settings/email", json={"user": None})
    assert {s["setting"]: s["value"] for s in reset.json()["settings"]}["email.user"] is None


def test_a_bad_email_setting_is_422_naming_it_and_nothing_is_stored(
    client: TestClient, keyring: MemoryKeyring
) -> None:
    before = client.get("/api/v1/settings/email").json()
    port = client.patch("/api/v1/settings/email", json={"smtp_port": 70000, "password": "pw"})
    assert _field(port) == "smtp_port"
    assert port.json()["detail"].endswith("Nothing was saved.")
    plain = {"smtp_host": "smtp.example.com", "security": "none"}
    assert _field(client.patch("/api/v1/settings/email", json=plain)) == "security"
    assert _field(client.patch("/api/v1/settings/email", json={"to": ["not an address"]})) == "to"
    assert _field(client.patch("/api/v1/settings/email", json={"sender": "x@y.z"})) == "sender"
    unknown_home = client.patch("/api/v1/settings/email", json={"ca_file": "~nobody-here/ca.pem"})
    assert _field(unknown_home) == "ca_file"
    too_long = client.patch("/api/v1/settings/email", json={"ca_file": "0" * 4000})
    assert _field(too_long) == "ca_file"
    assert client.patch("/api/v1/settings/email", json={}).status_code == 400
    assert client.get("/api/v1/settings/email").json() == before
    assert keyring.secrets == {}

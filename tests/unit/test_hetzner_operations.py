"""Hetzner Cloud projects and the import, against the local test API (see
tests/integration/support/hetzner_api.py for what it models), a real database and an
in-memory keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.support.hetzner_api import FakeServer, HetznerApi
from tests.unit.operations_support import MemoryKeyring, make_core
from tests.unit.ssh_server_support import Server, server  # noqa: F401
from vpshealth.app import Core
from vpshealth.errors import InputError
from vpshealth.operations.errors import ConflictError, FieldError
from vpshealth.operations.hetzner import HetznerUnavailable
from vpshealth.operations.login_keys import generated_key
from vpshealth.secrets import SERVICE


@pytest.fixture
def api() -> Iterator[HetznerApi]:
    api = HetznerApi()
    api.servers = [
        FakeServer(101, "web1", ipv4="127.0.0.11", labels={"env": "prod", "role": "web"}),
        FakeServer(102, "db1", ipv4=None, ipv6_network="2001:db8:2::/64", labels={"env": "prod"}),
        FakeServer(103, "dev1", ipv4="127.0.0.13", labels={"env": "dev"}),
    ]
    yield api
    api.close()


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def core(tmp_path: Path, keyring: MemoryKeyring) -> Iterator[Core]:
    core = make_core(tmp_path, keyring)
    yield core
    core.close()


def tokens(keyring: MemoryKeyring) -> list[str]:
    return [v for (s, k), v in keyring.secrets.items() if s == SERVICE and "hetzner" in k]


def test_a_project_keeps_its_token_in_the_keyring_only(
    core: Core, api: HetznerApi, keyring: MemoryKeyring
) -> None:
    assert core.operations.hetzner.add_project("web", api.token, api.endpoint) == 3
    assert tokens(keyring) == [api.token]
    with core.engine.connect() as conn:
        dumped = "\n".join(
            str(row) for row in conn.exec_driver_sql("SELECT * FROM hetzner_projects")
        )
    assert api.token not in dumped
    [project] = core.operations.hetzner.projects()
    assert (project.name, project.api_endpoint, project.hosts) == ("web", api.endpoint, 0)


def test_a_refused_token_saves_nothing_and_names_the_project(
    core: Core, api: HetznerApi, keyring: MemoryKeyring
) -> None:
    with pytest.raises(InputError, match=r"^Hetzner Cloud project web: .*401 unauthorized") as exc:
        core.operations.hetzner.add_project("web", "wrong", api.endpoint)
    assert "\n" not in str(exc.value)
    assert "Nothing was saved" in str(exc.value)
    assert tokens(keyring) == []
    assert core.operations.hetzner.projects() == []


def test_a_rate_limited_api_saves_nothing(core: Core, api: HetznerApi) -> None:
    api.exhaust()
    with pytest.raises(HetznerUnavailable, match=r"429 rate_limit_exceeded.*try again after"):
        core.operations.hetzner.add_project("web", api.token, api.endpoint)
    assert len(api.requests) == 1, "hcloud's own retries are off"
    assert core.operations.hetzner.projects() == []


def test_a_second_project_of_the_same_name_and_a_bad_name_are_refused(
    core: Core, api: HetznerApi
) -> None:
    core.operations.hetzner.add_project("web", api.token, api.endpoint)
    with pytest.raises(ConflictError, match="connected already"):
        core.operations.hetzner.add_project("web", api.token, api.endpoint)
    with pytest.raises(FieldError, match="invalid project"):
        core.operations.hetzner.add_project("my project", api.token, api.endpoint)


def test_import_creates_the_servers_once_and_updates_them(
    core: Core, api: HetznerApi, keyring: MemoryKeyring
) -> None:
    hetzner = core.operations.hetzner
    hetzner.add_project("web", api.token, api.endpoint)
    key = generated_key("hetzner-web")
    first = hetzner.import_servers("web", key)
    assert [(s.host_name, s.address, s.action) for s in first.servers] == [
        ("web1", "127.0.0.11", "added"),
        ("db1", "2001:db8:2::1", "added"),
        ("dev1", "127.0.0.13", "added"),
    ]
    assert first.public_line == key.public_line
    assert first.untrusted == ["web1", "db1", "dev1"]
    web1 = core.operations.hosts.get("web1").host
    assert web1.tags == ("env:prod", "role:web")
    assert web1.host_key is None
    assert web1.key_ref is not None
    assert keyring.secrets[(SERVICE, web1.key_ref)] == key.private_key

    api.server(101).ipv4 = "127.0.0.21"
    api.server(101).labels = {"env": "staging"}
    api.servers = [s for s in api.servers if s.id != 103]
    second = hetzner.import_servers("web", generated_key("unused"))
    assert [(s.host_name, s.action) for s in second.servers] == [
        ("web1", "updated"),
        ("db1", "unchanged"),
    ]
    assert second.public_line is None
    assert [(g.host_name, g.server_id) for g in second.gone] == [("dev1", 103)]
    assert [r.host.name for r in core.operations.hosts.list()] == [
        "db1",
        "dev1",
        "localhost",
        "web1",
    ]
    web1 = core.operations.hosts.get("web1").host
    assert (web1.address, web1.tags) == ("127.0.0.21", ("env:staging",))
    assert hetzner.projects()[0].hosts == 3


def test_a_label_selector_imports_only_what_it_selects(core: Core, api: HetznerApi) -> None:
    hetzner = core.operations.hetzner
    hetzner.add_project("web", api.token, api.endpoint)
    report = hetzner.import_servers("web", generated_key("k"), label_selector="env=prod,role")
    assert [s.host_name for s in report.servers] == ["web1"]
    assert report.gone == []


def test_a_malformed_label_selector_changes_nothing(core: Core, api: HetznerApi) -> None:
    hetzner = core.operations.hetzner
    hetzner.add_project("web", api.token, api.endpoint)
    with pytest.raises(HetznerUnavailable, match="refused the request: invalid label_selector"):
        hetzner.import_servers("web", generated_key("k"), label_selector="env in prod")
    assert [r.host.name for r in core.operations.hosts.list()] == ["localhost"]


def test_a_host_of_the_same_name_is_not_taken_over(core: Core, api: HetznerApi) -> None:
    hetzner = core.operations.hetzner
    hetzner.add_project("web", api.token, api.endpoint)
    core.operations.hosts.add({"name": "web1", "address": "192.0.2.1"}, generated_key("web1"), None)
    report = hetzner.import_servers("web", generated_key("k"))
    [skipped] = [s for s in report.servers if s.action == "skipped"]
    assert skipped.host_name == "web1"
    assert "exists already" in skipped.note
    assert core.operations.hosts.get("web1").host.address == "192.0.2.1"


def test_removing_a_project_deletes_its_token_and_keeps_its_hosts(
    core: Core, api: HetznerApi, keyring: MemoryKeyring
) -> None:
    hetzner = core.operations.hetzner
    hetzner.add_project("web", api.token, api.endpoint)
    hetzner.import_servers("web", generated_key("k"))
    assert hetzner.remove_project("web") == 3
    assert tokens(keyring) == []
    assert hetzner.projects() == []
    assert core.operations.hosts.get("web1").host.address == "127.0.0.11"


def test_import_without_a_project_says_how_to_add_one(core: Core) -> None:
    with pytest.raises(InputError, match="hetzner add PROJECT --token-stdin"):
        core.operations.hetzner.import_servers(None, generated_key("k"))


def test_trusted_on_first_use_the_new_servers_host_keys_are_pinned(
    core: Core,
    api: HetznerApi,
    server: Server,  # noqa: F811
) -> None:
    api.servers = [
        FakeServer(101, "web1", ipv4="127.0.0.1"),
        FakeServer(102, "gone1", ipv4="127.0.0.1", status="off"),
    ]
    hetzner = core.operations.hetzner
    hetzner.add_project("web", api.token, api.endpoint)
    report = hetzner.import_servers(
        "web", generated_key("k"), trust_host_keys=True, port=server.port
    )
    assert [s.host_key_fingerprint for s in report.servers] == [server.fingerprint] * 2
    assert core.operations.hosts.get("web1").host.host_key == server.line
    assert core.operations.hosts.get("web1").host.port == server.port


def test_a_revoked_token_says_how_to_replace_it(core: Core, api: HetznerApi) -> None:
    hetzner = core.operations.hetzner
    hetzner.add_project("web", api.token, api.endpoint)
    api.token = "rotated"
    with pytest.raises(InputError, match=r"401 unauthorized.*hetzner remove web` and add it"):
        hetzner.import_servers("web", generated_key("k"))
    assert [r.host.name for r in core.operations.hosts.list()] == ["localhost"]


def test_a_bad_port_or_user_is_refused_before_the_api_is_asked(core: Core, api: HetznerApi) -> None:
    hetzner = core.operations.hetzner
    hetzner.add_project("web", api.token, api.endpoint)
    asked = len(api.requests)
    with pytest.raises(FieldError, match="invalid port 70000"):
        hetzner.import_servers("web", generated_key("k"), port=70000)
    with pytest.raises(FieldError, match="invalid user 'no body'"):
        hetzner.import_servers("web", generated_key("k"), user="no body")
    assert len(api.requests) == asked

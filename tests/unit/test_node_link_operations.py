"""Connecting to a node, its status and forgetting it: the operations over a real database, an
in-memory keyring and a small HTTP node on loopback (the real node is in
tests/integration/test_node_link.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.node_stub import TOKEN, StubNode, stub_node
from tests.unit.operations_support import MemoryKeyring, make_core
from vpshealth.app import Core
from vpshealth.domain.hosts import AuthMethod
from vpshealth.operations.errors import FieldError
from vpshealth.operations.login_keys import generated_key
from vpshealth.secrets import SERVICE, SecretStore
from vpshealth.store.database import open_database
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.sync.node_address import parse_node_address
from vpshealth.sync.node_link import NodeLink, NodeLinkStore
from vpshealth.sync.node_session import NodeError, NodeProblem
from vpshealth.sync.tunnel import open_node_session


@pytest.fixture
def node() -> Iterator[StubNode]:
    with stub_node() as stub:
        yield stub


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def core(tmp_path: Path, keyring: MemoryKeyring) -> Iterator[Core]:
    core = make_core(tmp_path, keyring)
    yield core
    core.close()


def node_settings(core: Core) -> dict[str, object]:
    return SettingsRepository(core.engine).with_prefix("node.")


def secrets_of(keyring: MemoryKeyring) -> dict[str, str]:
    return {k: v for (s, k), v in keyring.secrets.items() if s == SERVICE}


def connect(core: Core, url: str, token: str = TOKEN) -> object:
    nodes = core.operations.node
    return asyncio.run(nodes.connect(nodes.address(url), token))


def test_connect_checks_the_token_and_keeps_it_in_the_keyring_only(
    core: Core, node: StubNode, keyring: MemoryKeyring
) -> None:
    connected = connect(core, node.url)
    assert connected.health.hosts == 2  # type: ignore[attr-defined]
    assert node.seen == [
        ("/api/v1/health", f"Bearer {TOKEN}"),
        ("/api/v1/hosts", f"Bearer {TOKEN}"),
    ]
    link = core.operations.node.current()
    assert link is not None
    assert link.address.text == node.url
    assert secrets_of(keyring) == {link.token_ref: TOKEN}
    with core.engine.connect() as conn:
        dumped = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM settings"))
    assert TOKEN not in dumped
    assert f'"{node.url}"' in dumped


@pytest.mark.parametrize(
    ("token", "hosts_status", "health", "problem", "words"),
    [
        ("vph_wrong", 200, None, NodeProblem.TOKEN_REFUSED, "revoked"),
        (TOKEN, 403, None, NodeProblem.FORBIDDEN, "read-only"),
        (TOKEN, 200, b"<html>", NodeProblem.NOT_A_NODE, "not as a VPS Health node does"),
    ],
)
def test_a_refused_connect_saves_nothing(
    core: Core,
    node: StubNode,
    keyring: MemoryKeyring,
    token: str,
    hosts_status: int,
    health: bytes | None,
    problem: NodeProblem,
    words: str,
) -> None:
    node.hosts_status = hosts_status
    if health is not None:
        node.health_body = health
    with pytest.raises(NodeError) as refused:
        connect(core, node.url, token)
    assert refused.value.problem is problem
    assert words in str(refused.value)
    assert f"the node {node.url}" in str(refused.value)
    assert str(refused.value).endswith("Nothing was saved.")
    assert refused.value.exit_code == 1
    assert node_settings(core) == {}
    assert secrets_of(keyring) == {}


def test_an_unreachable_node_is_said_so_and_nothing_is_saved(
    core: Core, keyring: MemoryKeyring
) -> None:
    with pytest.raises(NodeError) as refused:
        connect(core, "http://127.0.0.1:1")  # nothing listens there
    assert refused.value.problem is NodeProblem.UNREACHABLE
    assert "cannot reach the node http://127.0.0.1:1" in str(refused.value)
    assert node_settings(core) == {}
    assert secrets_of(keyring) == {}


@pytest.mark.parametrize("token", ["", "  ", "two words", "x" * 600])
def test_a_token_that_cannot_be_one_is_refused_before_asking_the_node(
    core: Core, node: StubNode, token: str
) -> None:
    with pytest.raises(FieldError) as refused:
        connect(core, node.url, token)
    assert refused.value.field == "token"
    assert node.seen == []


def test_status_says_whether_the_node_answers_and_when_the_copy_last_synced(
    core: Core, node: StubNode
) -> None:
    nodes = core.operations.node
    unlinked = asyncio.run(nodes.status())
    assert not unlinked.connected
    assert not unlinked.checked
    connect(core, node.url)
    status = asyncio.run(nodes.status())
    assert status.connected
    assert status.answers
    assert status.health is not None
    assert status.sync.last_synced_at is None  # no local copy yet: never synced
    copy = open_database(core.paths.node_copy_file)
    SettingsRepository(copy).update({"sync.last_synced_at": 1_800_000_000, "sync.live_seq": 42}, 0)
    status = asyncio.run(nodes.status(check=False))
    assert (status.sync.last_synced_at, status.sync.live_seq) == (1_800_000_000.0, 42)
    assert not status.checked
    SettingsRepository(copy).update({"sync.synced_at": 1_800_000_060.5}, 0)
    assert nodes.sync_state().last_synced_at == 1_800_000_000.0  # last_synced_at comes first
    SettingsRepository(copy).update({"sync.last_synced_at": None}, 0)
    copy.dispose()
    assert nodes.sync_state().last_synced_at == 1_800_000_060.5  # the replica's own key


def test_status_reports_a_revoked_token_and_keeps_the_link(
    core: Core, node: StubNode, keyring: MemoryKeyring
) -> None:
    connect(core, node.url)
    link = core.operations.node.current()
    assert link is not None
    keyring.secrets[(SERVICE, link.token_ref)] = "vph_revoked"
    status = asyncio.run(core.operations.node.status())
    assert status.connected
    assert not status.answers
    assert status.problem is NodeProblem.TOKEN_REFUSED
    assert status.message is not None
    assert status.message.endswith("The local copy is kept.")
    assert core.operations.node.current() == link


def test_connecting_again_replaces_the_link_and_deletes_the_old_token(
    core: Core, node: StubNode, keyring: MemoryKeyring
) -> None:
    connect(core, node.url)
    first = core.operations.node.current()
    connect(core, f"http://localhost:{node.port}")
    second = core.operations.node.current()
    assert first is not None
    assert second is not None
    assert second.address.host == "localhost"
    assert secrets_of(keyring) == {second.token_ref: TOKEN}


def test_disconnect_forgets_the_link_and_its_secrets(
    core: Core, node: StubNode, keyring: MemoryKeyring
) -> None:
    connect(core, node.url)
    forgotten = core.operations.node.disconnect()
    assert forgotten is not None
    assert forgotten.address.text == node.url
    assert node_settings(core) == {}
    assert secrets_of(keyring) == {}
    assert core.operations.node.disconnect() is None


def test_an_ssh_link_with_a_generated_key_is_saved_with_its_key_in_the_keyring(
    core: Core, keyring: MemoryKeyring
) -> None:
    nodes = core.operations.node
    key = generated_key("node")
    host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    address = nodes.address("ssh://vh@127.0.0.1:2222", api_port=9000)
    connected = asyncio.run(nodes.connect(address, TOKEN, key=key, host_key=host_key))
    assert connected.health is None  # the key is not in authorized_keys yet
    link = nodes.current()
    assert link == connected.link
    assert link is not None
    assert link.auth is AuthMethod.KEY
    assert link.host_key == host_key
    assert link.address.api_port == 9000
    assert secrets_of(keyring) == {link.token_ref: TOKEN, str(link.key_ref): key.private_key}
    assert nodes.pinned_host_key(nodes.address("ssh://other@127.0.0.1:2222")) == host_key
    assert nodes.pinned_host_key(nodes.address("ssh://vh@127.0.0.1:2223")) is None


def test_an_ssh_link_needs_a_login_and_a_host_key(core: Core) -> None:
    nodes = core.operations.node
    address = nodes.address("ssh://vh@127.0.0.1:2222")
    with pytest.raises(FieldError) as refused:
        asyncio.run(nodes.connect(address, TOKEN))
    assert refused.value.field == "auth"
    with pytest.raises(FieldError) as refused:
        asyncio.run(nodes.connect(address, TOKEN, key=generated_key("node")))
    assert refused.value.field == "host_key"


def test_a_damaged_link_reads_as_none(core: Core) -> None:
    SettingsRepository(core.engine).update(
        {"node.address": "gopher://x", "node.token_ref": "node-token/x"}, 0
    )
    assert NodeLinkStore(core.stored_settings).load() is None


async def test_an_https_session_carries_the_token_and_gives_wss_urls_under_the_prefix(
    keyring: MemoryKeyring,
) -> None:
    secrets = SecretStore(keyring)
    secrets.put("node-token/x", TOKEN)
    link = NodeLink(parse_node_address("https://node.example.com:8443/vh"), "node-token/x", 0)
    async with open_node_session(link, secrets) as session:
        assert str(session.client.base_url) == "https://node.example.com:8443/vh/"
        assert session.headers == {"Authorization": f"Bearer {TOKEN}"}
        assert session.ws_url("/api/v1/live") == "wss://node.example.com:8443/vh/api/v1/live"
    local = NodeLink(parse_node_address("http://127.0.0.1:8765"), "node-token/x", 0)
    async with open_node_session(local, secrets) as session:
        assert session.ws_url("/api/v1/live") == "ws://127.0.0.1:8765/api/v1/live"


async def test_a_link_whose_token_left_the_keyring_is_refused_by_name(
    keyring: MemoryKeyring,
) -> None:
    link = NodeLink(parse_node_address("https://node.example.com"), "node-token/gone", 0)
    with pytest.raises(NodeError) as refused:
        async with open_node_session(link, SecretStore(keyring)):
            pass
    assert refused.value.problem is NodeProblem.TOKEN_REFUSED
    assert "the token of the node https://node.example.com is not in" in str(refused.value)

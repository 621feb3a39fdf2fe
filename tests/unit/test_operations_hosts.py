"""HostOperations: field errors that name the field, keys stored and deleted with the host,
nothing half-written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vpshealth.app import Core
from vpshealth.collectors.ssh_keys import generate_ed25519
from vpshealth.domain.hosts import LOCAL_HOST_NAME, AuthMethod, Host
from vpshealth.errors import KeyringUnavailableError
from vpshealth.operations.errors import (
    ConflictError,
    FieldError,
    LocalHostFieldError,
    NotFoundError,
    NothingToChangeError,
)
from vpshealth.operations.hosts import HostOperations
from vpshealth.operations.login_keys import NewKey, agent_key, generated_key, key_from_text
from vpshealth.secrets import SecretStore
from vpshealth.store.host_repository import HostRepository

from .operations_support import MemoryKeyring, make_core

WEB1 = {"name": "web1", "address": "203.0.113.10"}
PINNED = generate_ed25519("host")[1]


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def core(tmp_path: Path, keyring: MemoryKeyring) -> Iterator[Core]:
    built = make_core(tmp_path, keyring)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def hosts(core: Core) -> HostOperations:
    return core.operations.hosts


def _key() -> NewKey:
    return generated_key("web1")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"address": "a;b"}, "address"),
        ({"port": 0}, "port"),
        ({"user": "-oProxyCommand=x"}, "user"),
        ({"interval_seconds": 4}, "interval_seconds"),
        ({"tags": ("ok", "b$d")}, "tags"),
        ({"name": "we b"}, "name"),
        ({"docker_socket": "relative"}, "docker_socket"),
    ],
)
def test_field_errors_name_the_field(
    hosts: HostOperations, keyring: MemoryKeyring, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(FieldError) as info:
        hosts.add({**WEB1, **fields}, _key(), PINNED)
    assert info.value.field == field
    assert str(info.value).startswith(f"invalid {field} ")
    assert str(info.value).endswith("Nothing was saved.")
    assert info.value.exit_code == 2
    assert keyring.secrets == {}


def test_add_stores_the_key_then_the_host(hosts: HostOperations, keyring: MemoryKeyring) -> None:
    record = hosts.add(WEB1, _key(), PINNED)
    assert (record.host.name, record.host.auth, record.host.host_key) == (
        "web1",
        AuthMethod.KEY,
        PINNED,
    )
    assert record.host.key_ref is not None
    assert [ref for _, ref in keyring.secrets] == [record.host.key_ref]


def test_a_taken_name_is_a_conflict(hosts: HostOperations, keyring: MemoryKeyring) -> None:
    hosts.add(WEB1, _key(), PINNED)
    with pytest.raises(ConflictError, match="A host named 'web1' already exists"):
        hosts.add(WEB1, _key(), PINNED)
    assert len(keyring.secrets) == 1


class FailingHosts(HostRepository):
    def add(self, host: Host) -> int:
        raise RuntimeError("disk full")

    def replace(self, name: str, host: Host) -> None:
        raise RuntimeError("disk full")

    def replace_from(self, name: str, edit: Callable[[Host], Host]) -> Host:
        raise RuntimeError("disk full")


def test_the_key_goes_again_when_the_host_cannot_be_stored(
    core: Core, keyring: MemoryKeyring
) -> None:
    ops = HostOperations(FailingHosts(core.engine), core.secrets, 5)
    key = key_from_text(*_encrypted_key("secret"))
    with pytest.raises(RuntimeError, match="disk full"):
        ops.add(WEB1, key, PINNED)
    assert keyring.secrets == {}
    assert core.hosts.find("web1") is None


def _encrypted_key(passphrase: str) -> tuple[str, str]:
    import asyncssh  # noqa: PLC0415

    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_private_key("openssh", passphrase).decode(), passphrase


def test_a_passphrase_is_stored_beside_its_key_and_deleted_with_it(
    hosts: HostOperations, keyring: MemoryKeyring
) -> None:
    hosts.add(WEB1, key_from_text(*_encrypted_key("secret")), PINNED)
    assert len(keyring.secrets) == 2
    removed = hosts.remove("web1")
    assert removed.name == "web1"
    assert keyring.secrets == {}


def test_a_new_key_replaces_and_deletes_the_old_one(
    core: Core, hosts: HostOperations, keyring: MemoryKeyring
) -> None:
    old_ref = hosts.add(WEB1, _key(), PINNED).host.key_ref
    edited = hosts.edit("web1", {"port": 2222}, _key())
    assert edited.port == 2222
    assert edited.key_ref not in (None, old_ref)
    assert [ref for _, ref in keyring.secrets] == [edited.key_ref]
    assert core.hosts.get("web1").host == edited


def test_an_edit_that_cannot_be_stored_keeps_the_old_key(
    core: Core, hosts: HostOperations, keyring: MemoryKeyring
) -> None:
    old_ref = hosts.add(WEB1, _key(), PINNED).host.key_ref
    failing = HostOperations(FailingHosts(core.engine), core.secrets, 5)
    with pytest.raises(RuntimeError):
        failing.edit("web1", {"port": 2222}, _key())
    assert [ref for _, ref in keyring.secrets] == [old_ref]
    assert core.hosts.get("web1").host.port == 22


def test_edit_errors(hosts: HostOperations) -> None:
    hosts.add(WEB1, _key(), PINNED)
    hosts.add({"name": "web2", "address": "203.0.113.11"}, _key(), PINNED)
    with pytest.raises(FieldError) as info:
        hosts.edit("web1", {"port": 70000})
    assert info.value.field == "port"
    with pytest.raises(NotFoundError, match="There is no host named 'web9'"):
        hosts.edit("web9", {"port": 22})
    with pytest.raises(NothingToChangeError):
        hosts.edit("web1", {})
    with pytest.raises(ConflictError, match="'web2' already exists"):
        hosts.edit("web1", {"name": "web2"})


def test_the_local_host_takes_only_interval_tags_and_enabled(hosts: HostOperations) -> None:
    with pytest.raises(LocalHostFieldError) as info:
        hosts.edit(LOCAL_HOST_NAME, {"interval_seconds": 30, "address": "10.0.0.1"})
    assert info.value.field == "address"
    with pytest.raises(LocalHostFieldError) as info:
        hosts.edit(LOCAL_HOST_NAME, {}, key=_key())
    assert info.value.field == "auth"
    assert hosts.edit(LOCAL_HOST_NAME, {"interval_seconds": 30}).interval_seconds == 30


def test_trust_pins_a_new_line_once(core: Core, hosts: HostOperations) -> None:
    hosts.add(WEB1, _key(), PINNED)
    other = generate_ed25519("rebuilt")[1]
    assert hosts.trust("web1", other)
    assert not hosts.trust("web1", other)
    assert core.hosts.get("web1").host.host_key == other


def test_keys_need_a_usable_secret_store(core: Core) -> None:
    ops = HostOperations(core.hosts, SecretStore(_fail_keyring()), 5)
    with pytest.raises(KeyringUnavailableError):
        ops.add(WEB1, _key(), PINNED)
    assert core.hosts.find("web1") is None


def _fail_keyring() -> Any:
    from keyring.backends import fail  # noqa: PLC0415

    return fail.Keyring()


def test_login_keys_from_a_face() -> None:
    with pytest.raises(FieldError) as info:
        key_from_text("not a key", None)
    assert info.value.field == "private_key"
    text, _ = _encrypted_key("secret")
    with pytest.raises(FieldError, match="passphrase"):
        key_from_text(text, "wrong")
    with pytest.raises(FieldError) as info:
        agent_key({})
    assert info.value.field == "auth"
    assert agent_key({"SSH_AUTH_SOCK": "/tmp/agent"}).auth is AuthMethod.AGENT
    generated = generated_key("web1")
    assert generated.generated
    assert generated.public_line is not None
    assert generated.public_line.endswith("vpshealth@web1")

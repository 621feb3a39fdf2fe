"""Trust on first use in the operations: against asyncssh's own server, in process on
loopback port 0."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from vpshealth.app import Core
from vpshealth.collectors.ssh_keys import public_line_of
from vpshealth.domain.health import Problem
from vpshealth.operations.errors import (
    FieldError,
    HostKeyRejected,
    HostKeyUnconfirmed,
    HostUnreachable,
)
from vpshealth.operations.host_keys import PresentedKey, accept, fetch_presented_key

from .operations_support import MemoryKeyring, make_core
from .ssh_server_support import Server, server

__all__ = ["server"]  # the fixture


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    built = make_core(tmp_path, MemoryKeyring())
    try:
        yield built
    finally:
        built.close()


def test_an_unconfirmed_key_carries_its_fingerprint(core: Core, server: Server) -> None:
    with pytest.raises(HostKeyUnconfirmed) as info:
        core.operations.hosts.host_key_for("web1", "127.0.0.1", server.port)
    unconfirmed = info.value
    assert (unconfirmed.name, unconfirmed.address, unconfirmed.port) == (
        "web1",
        "127.0.0.1",
        server.port,
    )
    assert unconfirmed.algorithm == "ssh-ed25519"
    assert unconfirmed.fingerprint == server.fingerprint
    assert unconfirmed.line == server.line
    assert unconfirmed.pinned is None
    assert server.fingerprint in str(unconfirmed)
    assert core.hosts.find("web1") is None


def test_the_expected_fingerprint_confirms_the_key(core: Core, server: Server) -> None:
    hosts = core.operations.hosts
    confirmed = hosts.host_key_for("web1", "127.0.0.1", server.port, server.fingerprint)
    assert confirmed == server.line
    other = str(asyncssh.generate_private_key("ssh-ed25519").get_fingerprint("sha256"))
    with pytest.raises(HostKeyRejected) as info:
        hosts.host_key_for("web1", "127.0.0.1", server.port, other)
    assert f"presented host key {server.fingerprint}, not the expected" in str(info.value)
    assert info.value.exit_code == 1


def test_a_pinned_key_still_presented_is_kept_as_pinned(server: Server) -> None:
    pinned = server.line + " a comment of the user"
    presented = fetch_presented_key("web1", "127.0.0.1", server.port, 5, pinned)
    assert presented == PresentedKey(server.line, "ssh-ed25519", server.fingerprint)
    where = {"name": "web1", "address": "127.0.0.1", "port": server.port}
    assert accept(presented, None, pinned, **where) == pinned
    changed = public_line_of(asyncssh.generate_private_key("ssh-ed25519"))
    with pytest.raises(HostKeyUnconfirmed) as info:
        accept(presented, None, changed, **where)
    assert info.value.pinned == changed


def test_a_malformed_fingerprint_names_the_field() -> None:
    presented = PresentedKey("ssh-ed25519 AAAA", "ssh-ed25519", "SHA256:x")
    with pytest.raises(FieldError) as info:
        accept(presented, "MD5:00:11", None, name="web1", address="127.0.0.1", port=22)
    assert info.value.field == "host_key_fingerprint"
    assert "SHA256" in str(info.value)


def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HostUnreachable) as info:
        fetch_presented_key("web1", "127.0.0.1", port, 5)
    assert info.value.problem is Problem.UNREACHABLE
    assert str(info.value).startswith("web1: cannot read the host key: ")
    assert info.value.exit_code == 1

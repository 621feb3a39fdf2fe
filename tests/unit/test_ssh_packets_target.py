"""collectors/ssh_packets.py overrides an asyncssh internal. These fail when an asyncssh
release moves or changes it, so that a bump past the bound in pyproject.toml is caught here
(then re-check tests/integration/test_ssh_packets.py against the new asyncssh)."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import asyncssh
import asyncssh.connection

from vpshealth.collectors import ssh_packets


def parameters(function: Callable[..., object]) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_the_overridden_method_is_asyncssh_own_with_the_same_signature() -> None:
    target = asyncssh.SSHClientConnection.send_packet
    assert target.__module__ == "asyncssh.connection"
    ours = ssh_packets._SinglePacketConnection.send_packet
    assert (
        parameters(target)
        == parameters(ours)
        == [
            ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
            ("pkttype", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
            ("args", inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.empty),
            ("handler", inspect.Parameter.KEYWORD_ONLY, None),
        ]
    )


def test_asyncssh_still_sends_the_empty_ignore_packet_the_override_drops() -> None:
    source = inspect.getsource(asyncssh.connection.SSHConnection.send_packet)
    assert "self.send_packet(MSG_IGNORE, String(b''))" in source

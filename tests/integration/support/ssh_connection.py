"""A real SSH connection to the test sshd (``tests.integration.support.sshd``) that counts the
long-lived sessions and one-off commands it starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.support.sshd import SshServer
from vpshealth.collectors.ssh import SshConnection, SshOptions
from vpshealth.collectors.ssh_keys import ClientCredentials
from vpshealth.domain.hosts import Host


class CountingConnection(SshConnection):
    """The real connection, counting the long-lived sessions and the one-off commands."""

    sessions = 0
    commands = 0

    async def start_session(self, factory: Callable[[], Any], command: str) -> Any:
        self.sessions += 1
        return await super().start_session(factory, command)

    async def run(self, command: str, input_text: str | None = None) -> str:
        self.commands += 1
        return await super().run(command, input_text)


def connection(
    server: SshServer,
    key: Path | None = None,
    *,
    command_timeout: float = 20.0,
    rekey_seconds: float = 3600.0,
) -> CountingConnection:
    host = Host(
        name="web1",
        address=server.host,
        port=server.port,
        user=server.user,
        host_key=server.host_public_key,
    )
    creds = ClientCredentials(private_key=(key or server.client_key_path).read_text())
    options = SshOptions(command_timeout=command_timeout, rekey_seconds=rekey_seconds)
    return CountingConnection(host, creds, options)

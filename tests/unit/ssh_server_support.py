"""An SSH server of asyncssh's own, in process on loopback port 0, on its own event loop in a
thread as a remote server would be: what trust on first use reads the host key from."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import asyncssh
import pytest

from vpshealth.collectors.ssh_keys import public_line_of


@dataclass
class Server:
    port: int
    key: asyncssh.SSHKey

    @property
    def line(self) -> str:
        return public_line_of(self.key)

    @property
    def fingerprint(self) -> str:
        return str(self.key.get_fingerprint("sha256"))


@pytest.fixture
def server() -> Iterator[Server]:
    """An SSH server on its own event loop in a thread, as a remote server would be."""
    loop = asyncio.new_event_loop()
    key = asyncssh.generate_private_key("ssh-ed25519")
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> asyncssh.SSHAcceptor:
        return await asyncssh.listen("127.0.0.1", 0, server_host_keys=[key])

    acceptor = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield Server(acceptor.sockets[0].getsockname()[1], key)
    finally:

        async def stop() -> None:
            acceptor.close()
            await acceptor.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

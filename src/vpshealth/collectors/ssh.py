"""One persistent asyncssh connection per host, verified against the pinned host key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import asyncssh

from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.ssh_keys import ClientCredentials, KeyFileError, load_private_key
from vpshealth.collectors.ssh_packets import send_without_ignore_packets
from vpshealth.domain.health import Problem
from vpshealth.domain.hosts import Host

log = logging.getLogger(__name__)

OUTPUT_LIMIT = 4 * 1024 * 1024

SessionT = TypeVar("SessionT", bound=asyncssh.SSHClientSession[bytes])


CIPHER_PREFERENCE: tuple[str, ...] = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
)
"""AES-GCM first: asyncssh's ChaCha20-Poly1305 builds a new cipher context per packet and
costs roughly twice the client CPU per check; AES-GCM is hardware-accelerated almost
everywhere. Both are authenticated; the server picks from this list."""


@dataclass(frozen=True, slots=True)
class SshOptions:
    connect_timeout: float = 10.0
    command_timeout: float = 20.0
    keepalive_interval: float = 30.0
    keepalive_count_max: int = 3
    max_channels: int = 8
    rekey_seconds: float = 3600.0
    """Session keys are renewed after this long plus a random part of up to half of it, so
    that a fleet connected at one start does not renew all its keys in the same minute."""


class _OutputSession(asyncssh.SSHClientSession[bytes]):
    """Keeps a command's standard output until its channel closes (``None`` once it passed
    ``OUTPUT_LIMIT``). Used instead of asyncssh's ``run``, whose process object and its
    streams refer to each other: each command left a reference cycle of about 26 objects for
    the garbage collector to find."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self.output: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype is not None or self.output.done():
            return
        self._size += len(data)
        if self._size > OUTPUT_LIMIT:
            self._chunks = []
            self.output.set_result(None)
            return
        self._chunks.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.output.done():
            return
        if exc is None:
            self.output.set_result(b"".join(self._chunks))
        elif isinstance(exc, asyncssh.Error | OSError):
            self.output.set_exception(exc)
        else:
            self.output.set_exception(asyncssh.ConnectionLost(str(exc)))
        self._chunks = []


class SessionRefused(Exception):
    """The server refused to start a command while the connection itself stays up."""


def _where(host: Host) -> str:
    return f"{host.name} ({host.display_address})"


class SshConnection:
    """Opens lazily, reconnects after a failure, and runs at most ``max_channels`` commands at
    once. The host key must be pinned: without one nothing is attempted."""

    def __init__(self, host: Host, credentials: ClientCredentials, options: SshOptions) -> None:
        self.host = host
        self._credentials = credentials
        self._options = options
        self._conn: asyncssh.SSHClientConnection | None = None
        self._connect_lock = asyncio.Lock()
        self._channels = asyncio.Semaphore(options.max_channels)
        self.generation = 0

    @property
    def where(self) -> str:
        """The host as named in messages: its name and address."""
        return _where(self.host)

    @property
    def is_connected(self) -> bool:
        return self._conn is not None

    async def run(self, command: str, input_text: str | None = None) -> str:
        """Run a fixed command and return its standard output. ``input_text`` goes to its
        standard input: the way to hand it data without putting the data in the command."""
        conn = await self.connect()
        async with self._channels, self.guard("finish the check"):
            channel, session = await conn.create_session(_OutputSession, command, encoding=None)
            if input_text is not None and not channel.is_closing():  # it may be done already
                channel.write(input_text.encode())
            channel.write_eof()
            output = await cast(_OutputSession, session).output
        if output is None:
            channel.close()
            raise CollectionError(Problem.PARSE_ERROR, f"{_where(self.host)} sent too much output")
        return output.decode("utf-8", "replace")

    async def start_session(
        self, factory: Callable[[], SessionT], command: str
    ) -> tuple[asyncssh.SSHClientChannel[bytes], SessionT]:
        """Start a fixed command that keeps running, with ``factory``'s session handling its
        input and output (binary). Raises SessionRefused if the server refuses it."""
        conn = await self.connect()
        async with self.guard("start the check"):
            try:
                channel, session = await conn.create_session(factory, command, encoding=None)
            except asyncssh.ChannelOpenError as exc:
                raise SessionRefused(f"{_where(self.host)} refused the session: {exc}") from None
        return channel, cast(SessionT, session)

    @contextlib.asynccontextmanager
    async def guard(self, what: str) -> AsyncIterator[None]:
        """Bounds a step by the command timeout. A timeout or a broken link closes the
        connection (the next step reconnects) and becomes a CollectionError naming the host."""
        try:
            async with asyncio.timeout(self._options.command_timeout):
                yield
        except TimeoutError:
            await self.close()
            raise CollectionError(
                Problem.TIMEOUT,
                f"{_where(self.host)} did not {what} within {self._options.command_timeout:g} s",
            ) from None
        except (asyncssh.Error, OSError) as exc:
            await self.close()
            raise CollectionError(
                Problem.UNREACHABLE, f"lost the connection to {_where(self.host)}: {exc}"
            ) from None

    async def open_unix_stream(
        self, path: str
    ) -> tuple[asyncssh.SSHReader[bytes], asyncssh.SSHWriter[bytes]]:
        """A byte stream to a unix socket on the host (direct-streamlocal), for the Docker
        API. Raises asyncssh.ChannelOpenError when the server cannot connect to it."""
        conn = await self.connect()
        async with asyncio.timeout(self._options.command_timeout):
            return await conn.open_unix_connection(path, encoding=None)

    async def connect(self) -> asyncssh.SSHClientConnection:
        async with self._connect_lock:
            if self._conn is None:
                self._conn = await self._open()
                self.generation += 1
            return self._conn

    async def _open(self) -> asyncssh.SSHClientConnection:
        host = self.host
        if not host.host_key:
            raise CollectionError(
                Problem.HOST_KEY_NOT_TRUSTED,
                f"{_where(host)} has no trusted host key yet; run `vpshealth host trust "
                f"{host.name}` to confirm it",
            )
        try:
            pinned = asyncssh.import_public_key(host.host_key)
        except (asyncssh.KeyImportError, ValueError):
            raise CollectionError(
                Problem.HOST_KEY_NOT_TRUSTED,
                f"the stored host key of {host.name} is damaged; run `vpshealth host trust "
                f"{host.name}` again",
            ) from None
        client_keys: list[asyncssh.SSHKey] = []
        if self._credentials.private_key:
            try:
                client_keys.append(
                    load_private_key(self._credentials.private_key, self._credentials.passphrase)
                )
            except KeyFileError as exc:
                raise CollectionError(
                    Problem.KEY_MISSING, f"the SSH key of {host.name} cannot be used: {exc}"
                ) from None
        opts = self._options
        try:
            async with asyncio.timeout(opts.connect_timeout + 1):
                conn = await asyncssh.connect(
                    host.address,
                    host.port,
                    username=host.user,
                    known_hosts=([pinned], [], []),
                    # None turns public-key login off altogether, the agent's keys too.
                    client_keys=client_keys or (() if self._credentials.agent_path else None),
                    agent_path=self._credentials.agent_path,
                    passphrase=None,
                    password=None,
                    kbdint_auth=False,
                    gss_host=None,
                    config=[],
                    connect_timeout=opts.connect_timeout,
                    login_timeout=opts.connect_timeout,
                    keepalive_interval=opts.keepalive_interval,
                    keepalive_count_max=opts.keepalive_count_max,
                    rekey_seconds=opts.rekey_seconds
                    + secrets.randbelow(int(opts.rekey_seconds) // 2 + 1),
                    encryption_algs=CIPHER_PREFERENCE,
                )
        except asyncssh.HostKeyNotVerifiable:
            raise CollectionError(
                Problem.HOST_KEY_MISMATCH,
                f"the host key of {_where(host)} has CHANGED since it was trusted; nothing was "
                "run. If the server was rebuilt, check the new fingerprint and run "
                f"`vpshealth host trust {host.name}`; otherwise someone may be intercepting "
                "the connection",
            ) from None
        except asyncssh.KeyExchangeFailed as exc:
            if "host key" in str(exc).lower():
                raise CollectionError(
                    Problem.HOST_KEY_MISMATCH,
                    f"{_where(host)} no longer offers the trusted host key type; nothing was "
                    f"run. Check the server and run `vpshealth host trust {host.name}`",
                ) from None
            raise CollectionError(
                Problem.UNREACHABLE, f"no common SSH algorithms with {_where(host)}: {exc}"
            ) from None
        except asyncssh.PermissionDenied:
            raise CollectionError(
                Problem.AUTH_FAILED,
                f"{_where(host)} refused the login as '{host.user}': check that the public key "
                f"is in ~{host.user}/.ssh/authorized_keys on the server",
            ) from None
        except TimeoutError:
            raise CollectionError(
                Problem.TIMEOUT,
                f"{_where(host)} did not complete the SSH handshake within "
                f"{opts.connect_timeout:g} s",
            ) from None
        except socket.gaierror:
            raise CollectionError(
                Problem.UNREACHABLE, f"the address of {host.name} ({host.address}) does not resolve"
            ) from None
        except ConnectionRefusedError:
            raise CollectionError(
                Problem.UNREACHABLE,
                f"{_where(host)} refused the connection: is sshd running on port {host.port}?",
            ) from None
        except (OSError, asyncssh.Error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise CollectionError(
                Problem.UNREACHABLE, f"cannot connect to {_where(host)}: {reason}"
            ) from None
        send_without_ignore_packets(conn)
        log.info("Connected to %s", _where(host))
        return conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(TimeoutError, OSError, asyncssh.Error):
                async with asyncio.timeout(2):
                    await conn.wait_closed()


HOST_KEY_PREFERENCE: tuple[str, ...] = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
)
"""Like OpenSSH's own client: the fingerprint shown is the ed25519 one where the server has
it, which is what a user compares with on the server."""


async def fetch_host_key(
    address: str, port: int, timeout: float, prefer: str | None = None
) -> asyncssh.SSHKey:
    """The key a server presents, for trust on first use. ``prefer`` is a pinned key line whose
    type is asked for first, so an unchanged key compares equal. Raises CollectionError."""
    algorithms = list(HOST_KEY_PREFERENCE)
    if prefer is not None:
        try:
            preferred = [a.decode() for a in asyncssh.import_public_key(prefer).sig_algorithms]
        except (asyncssh.KeyImportError, ValueError):
            preferred = []
        algorithms = preferred + [a for a in algorithms if a not in preferred]
    try:
        async with asyncio.timeout(timeout):
            key = await asyncssh.get_server_host_key(
                address, port, config=[], server_host_key_algs=algorithms
            )
    except TimeoutError:
        raise CollectionError(
            Problem.TIMEOUT, f"{address} port {port} did not answer within {timeout:g} s"
        ) from None
    except ConnectionRefusedError:
        raise CollectionError(
            Problem.UNREACHABLE, f"{address} refused the connection on port {port}"
        ) from None
    except socket.gaierror:
        raise CollectionError(Problem.UNREACHABLE, f"{address} does not resolve") from None
    except (OSError, asyncssh.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise CollectionError(
            Problem.UNREACHABLE, f"cannot connect to {address} port {port}: {reason}"
        ) from None
    if key is None:
        raise CollectionError(
            Problem.HOST_KEY_NOT_TRUSTED, f"{address} port {port} presented no host key"
        )
    return key

"""One long-lived shell per SSH connection that samples the host each time it is asked.

Asking costs one small SSH packet and the answer usually comes back as one: far cheaper for
the monitoring machine than opening a channel and starting a command on every poll.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

import asyncssh

from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.remote_commands import (
    DONE_MARKER,
    FIRST_POLL_COMMAND,
    FIRST_SAMPLE_REQUEST,
    POLL_COMMAND,
    POLL_SHELL_COMMAND,
    SAMPLE_REQUEST,
)
from vpshealth.collectors.ssh import OUTPUT_LIMIT, SessionRefused, SshConnection
from vpshealth.domain.health import Problem

log = logging.getLogger(__name__)


class ShellEnded(Exception):
    """The shell on the host stopped (or its channel closed) before it answered."""


class TooMuchOutput(ShellEnded):
    """The answer grew past the output limit without its done line."""


class _ShellSession(asyncssh.SSHClientSession[bytes]):
    """Collects standard output until it ends with the done line of the pending request.
    Anything that arrives while no request is pending is dropped."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._end = b""
        self._answer: asyncio.Future[bytes] | None = None
        self.ended = False

    def expect(self, end: bytes) -> asyncio.Future[bytes]:
        if self.ended:
            raise ShellEnded()
        self._buffer.clear()
        self._end = end
        self._answer = asyncio.get_running_loop().create_future()
        return self._answer

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        answer = self._answer
        if answer is None or answer.done() or datatype is not None:
            return
        self._buffer += data
        if len(self._buffer) > OUTPUT_LIMIT:
            self._settle()
            answer.set_exception(TooMuchOutput())
        elif self._buffer.endswith(self._end):
            output = bytes(self._buffer[: -len(self._end)])
            self._settle()
            answer.set_result(output)

    def _settle(self) -> None:
        """Nothing of an answer is kept once it is handed over (a thousand hosts' last
        answers would be several MB)."""
        self._buffer = bytearray()
        self._answer = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        answer = self._answer
        if answer is not None and not answer.done():
            answer.set_exception(ShellEnded(str(exc)) if exc else ShellEnded())


class PollShell:
    """Runs the poll through a shell kept open on the host, started on first use and again
    after every reconnect. If the host cannot keep one (a forced command, a restricted shell),
    every poll of that connection runs the poll command on its own instead."""

    def __init__(self, ssh: SshConnection) -> None:
        self._ssh = ssh
        self._channel: asyncssh.SSHClientChannel[bytes] | None = None
        self._session: _ShellSession | None = None
        self._started_on: asyncssh.SSHClientConnection | None = None
        self._worked_on: asyncssh.SSHClientConnection | None = None
        self._unsupported_on: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()

    async def sample(self, *, first: bool) -> str:
        """One poll's output, in the format of ``POLL_COMMAND`` (``FIRST_POLL_COMMAND`` when
        ``first``). Raises CollectionError."""
        async with self._lock:
            conn = await self._ssh.connect()
            if conn is not self._unsupported_on:
                output = await self._ask_shell(conn, first)
                if output is not None:
                    return output
                self._unsupported_on = conn
            return await self._ssh.run(FIRST_POLL_COMMAND if first else POLL_COMMAND)

    async def _ask_shell(self, conn: asyncssh.SSHClientConnection, first: bool) -> str | None:
        """The shell's answer; None when this connection cannot keep a shell. A shell that
        worked on this connection and then ended (someone killed it) is started once more."""
        retried = False
        while True:
            try:
                return await self._ask(conn, first)
            except TooMuchOutput:
                self._drop()
                raise CollectionError(
                    Problem.PARSE_ERROR, f"{self._ssh.where} sent too much output"
                ) from None
            except SessionRefused as exc:
                log.info("%s; running one command per check", exc)
                return None
            except ShellEnded as exc:
                self._drop()
                if conn is self._worked_on and not retried:
                    retried = True
                    continue
                log.info(
                    "%s did not keep a shell open (%s); running one command per check",
                    self._ssh.where,
                    exc or "it ended at once",
                )
                return None

    async def _ask(self, conn: asyncssh.SSHClientConnection, first: bool) -> str:
        if self._session is None or self._started_on is not conn or self._session.ended:
            self._drop()
            self._channel, self._session = await self._ssh.start_session(
                _ShellSession, POLL_SHELL_COMMAND
            )
            self._started_on = conn
        assert self._channel is not None
        token = secrets.token_hex(8)
        answer = self._session.expect(f"{DONE_MARKER}{token}\n".encode())
        request = FIRST_SAMPLE_REQUEST if first else SAMPLE_REQUEST
        try:
            self._channel.write(f"{request} {token}\n".encode())
        except (OSError, asyncssh.Error) as exc:
            answer.cancel()
            raise ShellEnded(str(exc)) from None
        async with self._ssh.guard("finish the check"):
            output = await answer
        self._worked_on = conn
        return output.decode("utf-8", "replace")

    def _drop(self) -> None:
        channel, self._channel, self._session = self._channel, None, None
        if channel is not None:
            channel.close()

    def close(self) -> None:
        self._drop()

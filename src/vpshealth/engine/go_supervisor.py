"""Runs the Go check engine as a child process: starts it, feeds it, reads every line it
writes, and starts it again with back-off when it dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from vpshealth.engine.go_protocol import (
    MAX_LINE_BYTES,
    STOP_LINE,
    LogMessage,
    Malformed,
    Message,
    Ready,
    StartOptions,
    Stopped,
    Unknown,
    decode_line,
    start_line,
)

log = logging.getLogger(__name__)

RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
STABLE_SECONDS = 300.0
"""Up this long, the next crash starts the back-off from its first delay again."""
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 3.0

_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def exit_code_of(returncode: int) -> int:
    """A shell's exit code: a child killed by signal N exited with 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


class GoSupervisor:
    """``on_message`` gets every message but ``ready``/``stopped``/``log``, in the order they
    were written, and must not block; ``on_exit`` is called after each child's end, once all
    of its lines were handed over. ``hosts_line`` is the current ``hosts`` message, sent after
    ``start`` to every new child."""

    def __init__(
        self,
        program: Path,
        options: StartOptions,
        on_message: Callable[[Message], None],
        on_exit: Callable[[], None],
        *,
        args: Sequence[str] = (),
        restart_delays: Sequence[float] = RESTART_DELAYS,
        stable_seconds: float = STABLE_SECONDS,
        ready_timeout: float = READY_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self._program = program
        self._args = tuple(args)
        self._options = options
        self._on_message = on_message
        self._on_exit = on_exit
        self._delays = tuple(restart_delays)
        self._stable_seconds = stable_seconds
        self._ready_timeout = ready_timeout
        self._stop_timeout = stop_timeout
        self._hosts_line: bytes | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._ready = False
        self._stopping = False
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.starts = 0
        self.pid: int | None = None

    @property
    def running(self) -> bool:
        return self._ready and self._process is not None and self._process.returncode is None

    def start(self, *, start_now: bool) -> None:
        self._task = asyncio.create_task(self._run(start_now), name="Go check engine")

    async def set_hosts(self, line: bytes) -> None:
        self._hosts_line = line
        if self.running:
            await self.send(line)

    async def send(self, line: bytes) -> bool:
        """False when no engine is running to take it."""
        process = self._process
        if not self.running or process is None or process.stdin is None:
            return False
        try:
            process.stdin.write(line)
            await process.stdin.drain()
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def _run(self, start_now: bool) -> None:
        failures = 0
        while not self._stopping:
            started = time.monotonic()
            code = await self._one_run(start_now and self.starts == 0)
            if self._stopping:
                return
            if time.monotonic() - started >= self._stable_seconds:
                failures = 0
            delay = self._delays[min(failures, len(self._delays) - 1)]
            failures += 1
            log.warning(
                "The Go check engine stopped (exit code %s); starting it again in %g s",
                code,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), delay)

    async def _one_run(self, start_now: bool) -> int | str:
        try:
            process = await asyncio.create_subprocess_exec(
                self._program,
                *self._args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=MAX_LINE_BYTES + 1024,
            )
        except OSError as exc:
            log.error("Could not start the Go check engine %s: %s", self._program, exc)
            return "none: it did not start"
        self._process = process
        self.pid = process.pid
        self.starts += 1
        assert process.stdout is not None
        assert process.stderr is not None
        stderr = asyncio.create_task(self._read_stderr(process.stderr), name="Go engine stderr")
        try:
            await self._read(process, process.stdout, start_now)
        finally:
            self._ready = False
            await self._reap(process)
            await stderr
            self._on_exit()
        return exit_code_of(process.returncode if process.returncode is not None else -9)

    async def _reap(self, process: asyncio.subprocess.Process) -> None:
        """Its exit code, killing it first if it lives on without its output. Not killed at
        once: the kill polls the child itself, taking its exit code from asyncio's watcher."""
        try:
            await asyncio.wait_for(process.wait(), self._stop_timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def _read(
        self, process: asyncio.subprocess.Process, stdout: asyncio.StreamReader, start_now: bool
    ) -> None:
        try:
            first = await asyncio.wait_for(self._next_line(stdout), self._ready_timeout)
        except TimeoutError:
            log.warning(
                "The Go check engine %s did not say it was ready within %g s",
                self._program,
                self._ready_timeout,
            )
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            return
        if first is None:
            return
        message = decode_line(first)
        if not isinstance(message, Ready):
            log.warning("The Go check engine's first line was not `ready`: %s", _describe(message))
            return
        self._ready = True
        log.info(
            "The Go check engine is running (pid %s, version %s)", message.pid, message.version
        )
        assert process.stdin is not None
        await self.send(start_line(self._options, start_now=start_now))
        if self._hosts_line is not None:
            await self.send(self._hosts_line)
        while (line := await self._next_line(stdout)) is not None:
            try:
                self._dispatch(decode_line(line))
            except Exception:
                log.exception("Could not handle a message of the Go check engine")

    async def _next_line(self, stdout: asyncio.StreamReader) -> bytes | None:
        """The next complete line; None at the end of output. A partial last line (the engine
        died while writing it) is dropped; an over-long line is skipped."""
        while True:
            try:
                line = await stdout.readline()
            except ValueError:
                log.warning("Skipped a line of the Go check engine longer than %d bytes",
                            MAX_LINE_BYTES)  # fmt: skip
                continue
            if not line:
                return None
            if not line.endswith(b"\n"):
                log.warning("Dropped the Go check engine's last, unfinished line (%d bytes)",
                            len(line))  # fmt: skip
                return None
            return line

    def _dispatch(self, message: Message) -> None:
        if isinstance(message, LogMessage):
            host = f"host {message.host_id}: " if message.host_id is not None else ""
            level = _LOG_LEVELS.get(message.level, logging.INFO)
            log.log(level, "Go engine: %s%s", host, message.message)
        elif isinstance(message, Malformed | Unknown):
            log.warning("Ignored a line of the Go check engine: %s", _describe(message))
        elif isinstance(message, Stopped | Ready):
            log.debug("Go check engine: %s", type(message).__name__)
        else:
            self._on_message(message)

    async def _read_stderr(self, stderr: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await stderr.readline()
            except ValueError:
                continue
            if not line:
                return
            text = line.decode(errors="replace").rstrip()
            if text:
                log.warning("Go check engine: %s", text)

    async def stop(self) -> None:
        """``stop``, then up to ``stop_timeout`` for it to exit, then kill."""
        self._stopping = True
        self._stopped.set()
        process = self._process
        if process is not None and process.returncode is None:
            if self._ready:
                await self.send(STOP_LINE)
            elif process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), self._stop_timeout)
            except TimeoutError:
                log.warning("The Go check engine did not stop within %g s; killing it",
                            self._stop_timeout)  # fmt: skip
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        task, self._task = self._task, None
        if task is not None:
            # The reader hands over what the engine wrote before it exited, then ends.
            try:
                await asyncio.wait_for(asyncio.shield(task), self._stop_timeout)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def _describe(message: Message) -> str:
    if isinstance(message, Malformed):
        return message.reason
    if isinstance(message, Unknown):
        return f"unknown type {message.type[:40]!r}"
    return type(message).__name__

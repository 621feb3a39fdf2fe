"""The engine lock: exactly one process runs the checks."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from vpshealth.errors import EngineLockedError


class EngineLock:
    """An exclusive, non-blocking ``flock`` on a file holding the owner's PID. The kernel drops
    it when the process dies, so a crash never leaves a stale lock."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = self.owner_pid()
            os.close(fd)
            who = f" (PID {owner})" if owner else ""
            raise EngineLockedError(
                f"The VPS Health service is already running{who}; only one process runs the "
                "checks. Stop it first, or leave it running."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def owner_pid(self) -> int | None:
        try:
            text = self._path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def holder(self) -> int | None:
        """The PID of the process that runs the checks now, or None when none does."""
        probe = EngineLock(self._path)
        try:
            probe.acquire()
        except EngineLockedError:
            return self.owner_pid() or -1
        probe.release()
        return None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> EngineLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

"""The engine lock: exactly one process runs the checks."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from vpshealth.errors import EngineLockedError

_WINDOWS_LOCKED_BYTE = 1 << 30
"""Windows locks byte ranges, and nobody can read a locked range: the lock is on this byte,
far past the PID, so that the PID stays readable while the lock is held."""


def _try_lock(fd: int) -> bool:
    """An exclusive lock on the open file, without waiting. The system drops it when the
    process dies, so a crash never leaves a stale lock."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only; Windows takes the msvcrt branch
    except ImportError:
        import msvcrt  # noqa: PLC0415 - Windows only

        os.lseek(fd, _WINDOWS_LOCKED_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    try:
        import fcntl  # noqa: PLC0415 - POSIX only; Windows takes the msvcrt branch
    except ImportError:
        import msvcrt  # noqa: PLC0415 - Windows only

        os.lseek(fd, _WINDOWS_LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


class EngineLock:
    """An exclusive, non-blocking lock on a file holding the owner's PID (``flock`` on POSIX,
    ``msvcrt.locking`` of a byte past the PID on Windows)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
        fd = os.open(self._path, flags, 0o600)
        if not _try_lock(fd):
            owner = self.owner_pid()
            os.close(fd)
            who = f" (PID {owner})" if owner else ""
            raise EngineLockedError(
                f"The VPS Health service is already running{who}; only one process runs the "
                "checks. Stop it first, or leave it running."
            )
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
            _unlock(self._fd)
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

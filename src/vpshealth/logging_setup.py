"""Log to a rotating file in the log folder and to stderr.

Each kind of process (the desktop app, the service, the other commands) has a file of its own,
so the long-running ones never share one. Short commands may still run side by side: the file
handler copes with other writers."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONSOLE_FORMAT = "%(levelname)s: %(message)s"
MAX_BYTES = 2_000_000
BACKUPS = 3
ROTATION_RETRY_SECONDS = 60.0

JOURNAL_PRIORITIES = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}
"""sd-daemon(3) priorities: journald reads a ``<N>`` at the start of a line as its priority."""


def configure_logging(log_file: Path, *, verbose: bool, console_info: bool = False) -> None:
    """``console_info`` shows INFO messages (state changes) on stderr, for the foreground
    service."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)

    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    file_handler = SharedRotatingFileHandler(
        log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(file_handler)

    console = logging.StreamHandler()
    console.setLevel(
        logging.DEBUG if verbose else logging.INFO if console_info else logging.WARNING
    )
    to_journal = stderr_is_journal(os.environ, sys.stderr)
    formatter = JournalFormatter if to_journal else logging.Formatter
    console.setFormatter(formatter(_CONSOLE_FORMAT))
    root.addHandler(console)

    for noisy in ("asyncssh", "alembic"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)
    # httpx logs every request's full URL, and some URLs carry a secret (the heartbeat's).
    logging.getLogger("httpx").setLevel(logging.WARNING)


def stderr_is_journal(environ: Mapping[str, str], stderr: TextIO | None) -> bool:
    """True when systemd connected stderr to the journal: ``JOURNAL_STREAM`` names its device
    and inode (systemd.exec(5)). A child whose stderr was redirected keeps the variable but not
    the stream, hence the comparison."""
    expected = environ.get("JOURNAL_STREAM", "")
    device, _, inode = expected.partition(":")
    if stderr is None or not (device.isdigit() and inode.isdigit()):
        return False
    try:
        held = os.fstat(stderr.fileno())
    except (OSError, ValueError):
        return False
    return (held.st_dev, held.st_ino) == (int(device), int(inode))


class JournalFormatter(logging.Formatter):
    """Every line carries the record's priority, so a traceback is an error in the journal."""

    def format(self, record: logging.LogRecord) -> str:
        priority = next((p for lv, p in JOURNAL_PRIORITIES.items() if record.levelno >= lv), 7)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).split("\n"))


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A size-rotated file that several processes may write. A writer that finds the file
    rotated by another reopens it, rather than writing on into the old one; a rotation the
    system refuses (Windows, while another process has the file open) is tried again later."""

    def __init__(self, filename: Path, **kwargs: object) -> None:
        super().__init__(filename, **kwargs)  # type: ignore[arg-type]
        self._rotation_due_at = 0.0

    def shouldRollover(self, record: logging.LogRecord) -> int:
        self._reopen_if_moved()
        if time.monotonic() < self._rotation_due_at:
            return 0
        return super().shouldRollover(record)

    def doRollover(self) -> None:
        if self._moved():
            self._reopen()  # another writer rotated it a moment ago
            return
        try:
            super().doRollover()
        except OSError:
            self._rotation_due_at = time.monotonic() + ROTATION_RETRY_SECONDS
            if self.stream is None:
                self.stream = self._open()

    def _moved(self) -> bool:
        if self.stream is None:
            return False
        try:
            on_disk = os.stat(self.baseFilename)
        except FileNotFoundError:
            return True
        held = os.fstat(self.stream.fileno())
        return (on_disk.st_dev, on_disk.st_ino) != (held.st_dev, held.st_ino)

    def _reopen_if_moved(self) -> None:
        if self._moved():
            self._reopen()

    def _reopen(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.stream = self._open()

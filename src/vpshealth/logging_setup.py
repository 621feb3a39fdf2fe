"""Log to a rotating file in the log folder and to stderr."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(file_handler)

    console = logging.StreamHandler()
    console.setLevel(
        logging.DEBUG if verbose else logging.INFO if console_info else logging.WARNING
    )
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(console)

    for noisy in ("asyncssh", "alembic"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)

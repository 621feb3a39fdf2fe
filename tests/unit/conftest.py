"""Shared fixtures of the unit tests."""

from __future__ import annotations

import logging
import logging.handlers
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private VPSHEALTH_HOME; restores the process state `main` changes (umask, root
    logging handlers)."""
    for var in list(os.environ):
        if var.startswith("VPSHEALTH_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("VPSHEALTH_HOME", str(tmp_path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    for display in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):  # no desktop app here
        monkeypatch.delenv(display, raising=False)
    umask = os.umask(0o022)
    os.umask(umask)
    root = logging.getLogger()
    level = root.level
    asyncssh_level = logging.getLogger("asyncssh").level
    try:
        yield tmp_path
    finally:
        os.umask(umask)
        for handler in list(root.handlers):
            if (
                isinstance(handler, logging.handlers.RotatingFileHandler)
                or type(handler) is logging.StreamHandler
            ):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
        logging.getLogger("asyncssh").setLevel(asyncssh_level)

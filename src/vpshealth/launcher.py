"""The `vpshealth` program: the desktop app without a command, the command line with one."""

from __future__ import annotations

from collections.abc import Sequence

from vpshealth.cli.main import main as command_line
from vpshealth.config import Paths, Settings


def _desktop_app(settings: Settings, paths: Paths) -> int:
    # Imported here: the commands and the headless service never load Qt.
    from vpshealth.gui.app import run  # noqa: PLC0415

    return run(settings, paths)


def main(argv: Sequence[str] | None = None) -> int:
    return command_line(argv, desktop_app=_desktop_app)

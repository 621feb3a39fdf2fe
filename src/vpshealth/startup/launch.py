"""The command line that starts this installation of VPS Health, and the environment it
needs to find the same data."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

PASSED_ENVIRONMENT = ("VPSHEALTH_HOME",)
"""Variables copied into service and login entries so they use the same data folder."""


def base_command(*, windowless: bool = False) -> list[str]:
    """A frozen bundle runs its own executable; an installed package runs its interpreter.
    ``windowless``: on Windows, the variant that opens no console window (``vpshealthw.exe``,
    ``pythonw.exe``), for entries started at login."""
    executable = Path(sys.executable)
    quiet_name = "vpshealthw.exe" if getattr(sys, "frozen", False) else "pythonw.exe"
    if windowless and sys.platform == "win32" and executable.with_name(quiet_name).exists():
        executable = executable.with_name(quiet_name)
    if getattr(sys, "frozen", False):
        return [str(executable)]
    return [str(executable), "-m", "vpshealth"]


def service_command() -> list[str]:
    return [*base_command(windowless=True), "service"]


def desktop_command() -> list[str]:
    return base_command(windowless=True)


def passed_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    return {name: source[name] for name in PASSED_ENVIRONMENT if source.get(name)}

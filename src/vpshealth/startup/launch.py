"""The command line that starts this installation of VPS Health, and the environment it
needs to find the same data."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

PASSED_ENVIRONMENT = ("VPSHEALTH_HOME",)
"""Variables copied into service and login entries so they use the same data folder."""


def base_command() -> list[str]:
    """A frozen bundle runs its own executable; an installed package runs its interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "vpshealth"]


def service_command() -> list[str]:
    return [*base_command(), "service"]


def desktop_command() -> list[str]:
    return base_command()


def passed_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    return {name: source[name] for name in PASSED_ENVIRONMENT if source.get(name)}

"""Running the ``vpshealth`` CLI as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol


class RunCli(Protocol):
    def __call__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float = 60,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]: ...


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m vpshealth *args`` with text I/O; output captured, exit code unchecked.

    ``env`` defaults to a copy of ``os.environ`` without SSH_AUTH_SOCK.
    """
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(
        [sys.executable, "-m", "vpshealth", *args],
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )

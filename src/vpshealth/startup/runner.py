"""Running the OS's service tools (systemctl, launchctl, schtasks)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def why(self) -> str:
        """The tool's own first line of complaint, for an error message."""
        for text in (self.err, self.out):
            for line in text.splitlines():
                if line.strip():
                    return line.strip()
        return f"exit code {self.code}"


Runner = Callable[[Sequence[str]], Ran]


def run_tool(argv: Sequence[str]) -> Ran:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        return Ran(127, "", f"{argv[0]} is not installed")
    except subprocess.TimeoutExpired:
        return Ran(124, "", f"{argv[0]} did not answer within 30 s")
    return Ran(done.returncode, done.stdout, done.stderr)

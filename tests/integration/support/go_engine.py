"""The Go check engine's program for tests: built once per session with
scripts/build-go-engine; a missing Go toolchain skips, or fails under CI=true."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[3]
PROGRAM = REPO / "engine-go" / "bin" / "vpshealth-engine"
GO_DIRS = ("/usr/local/go/bin",)


def build_go_engine() -> Path:
    path = os.pathsep.join([*GO_DIRS, os.environ.get("PATH", "")])
    if shutil.which("go", path=path) is None:
        message = "no Go toolchain (go) to build engine-go/ with"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run(
        [str(REPO / "scripts" / "build-go-engine")],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"scripts/build-go-engine failed:\n{done.stderr}"
    return PROGRAM


def engine_children(service_pid: int) -> list[psutil.Process]:
    """The Go engine processes the service started."""
    try:
        children = psutil.Process(service_pid).children()
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if Path(child.cmdline()[0]).name == PROGRAM.name:
                found.append(child)
        except (psutil.Error, IndexError):
            continue
    return found

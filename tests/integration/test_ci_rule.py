"""The CI=true rule of tests/conftest.py (a skipped integration test fails the run) holds when
the suite runs on pytest-xdist workers, as scripts/test runs it: the rule turns the report
into a failure in the worker, and the controller must count it as one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PEER_TESTS = """
import pytest

pytestmark = pytest.mark.integration


def test_without_its_peer() -> None:
    pytest.skip("peer missing")


def test_with_its_peer() -> None:
    pass
"""


def _run(tmp_path: Path, *options: str, ci: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_peer.py").write_text(PEER_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {"CI": ci}
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
            "-c", os.devnull, "--rootdir", str(tmp_path), "-o", "markers=integration",
            *options, str(tmp_path / "test_peer.py"),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_skipped_integration_test_fails_the_run_on_xdist_workers(tmp_path: Path) -> None:
    run = _run(tmp_path, "-n", "2", ci="true")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout, run.stdout
    assert "skipped under CI=true, which is not allowed" in run.stdout, run.stdout


def test_outside_ci_the_skip_stays_a_skip(tmp_path: Path) -> None:
    run = _run(tmp_path, ci="")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed, 1 skipped" in run.stdout, run.stdout

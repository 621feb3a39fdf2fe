"""Project-wide pytest hooks.

* Every test under ``tests/integration/`` gets the ``integration`` marker.
* Under ``CI=true`` a skipped integration test is a failure: CI installs every peer the
  integration tests need (see ``.ci/run``), so a skip there means something is broken.
  Outside CI skips stay skips, so developers without sshd / gnome-keyring can still run
  the suite.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator
from pathlib import Path

import pytest

INTEGRATION_DIR = Path(__file__).parent / "integration"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require_tool(name: str, *, package: str) -> str:
    """The path of a tool a test runs outside tests/integration (a validator, say): a skip
    without it, a failure under CI, which installs it (``.ci/run``)."""
    found = shutil.which(name)
    if found is None:
        why = f"{name} not found: apt-get install {package} (.ci/run does)"
        if running_in_ci():
            pytest.fail(f"{why}; under CI=true it must be there")
        pytest.skip(why)
    return found


def _is_integration_path(path: Path) -> bool:
    return path.is_relative_to(INTEGRATION_DIR)


def _skip_reason(longrepr: object) -> str:
    # A skip's longrepr is (path, lineno, "Skipped: reason").
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_integration_path(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")  # xfail is reported as a skip; leave it alone
        and item.get_closest_marker("integration") is not None
        and running_in_ci()
    ):
        report.outcome = "failed"
        report.longrepr = (
            f"integration test skipped under CI=true, which is not allowed "
            f"(CI must provide every peer): {_skip_reason(report.longrepr)}"
        )
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A module-level skip (e.g. ``importorskip``) in tests/integration fails under CI too."""
    report = yield
    if report.skipped and running_in_ci() and _is_integration_path(collector.path):
        report.outcome = "failed"
        report.longrepr = (
            f"integration tests skipped at collection under CI=true, which is not allowed: "
            f"{_skip_reason(report.longrepr)}"
        )
    return report

"""Keeps the side-by-side benchmark (bench/engine_compare.py) from rotting: one simulated
fleet of three hosts, the real service polling it with the Python engine and then with the Go
engine for a few seconds each. No timing assertions: that every host was polled by each
engine, and that the report has each figure.

The Go half needs the engine's program (scripts/build-go-engine; scripts/test builds it).
Without it the test checks the Python half and is skipped, except under CI=true, where a
missing program fails."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for bench/

from bench.engine_compare import (
    ROWS,
    CompareOptions,
    compare,
    figure,
    format_compare,
    go_engine_program,
    report_json,
)

# The simulator stands in for a fleet of Linux servers and is run on Linux only.
pytestmark = pytest.mark.posix_only

HOSTS = ["sim-0000", "sim-0001", "sim-0002"]


def _go_engine_built() -> bool:
    if go_engine_program().is_file():
        return True
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Go engine is not built ({go_engine_program()}): scripts/build-go-engine")
    return False


def test_both_engines_poll_every_simulated_host(tmp_path: Path) -> None:
    with_go = _go_engine_built()
    engines = ("python", "go") if with_go else ("python",)
    options = CompareOptions(hosts=3, interval=5, seconds=12.0, warmup=3.0, engines=engines)

    report = compare(options, tmp_path)

    assert [run.engine for run in report.runs] == list(engines)
    for run in report.runs:
        assert run.report["engine"] == run.engine
        assert run.report["whole"]["polls"] >= 3, run.engine
        assert run.report["hosts_polled"] == 3, run.engine
        assert run.report["hosts_ok_or_warning_with_metrics"] == HOSTS, run.engine
        assert run.report["cancelled_polls"] == 0
        assert run.report["steady"]["engine_cpu_seconds"] > 0
        assert run.report["peak_rss_mb"] > 0
        assert run.peer.cpu_seconds > 0  # the simulator, measured from outside
        for _, _, path in ROWS:
            assert isinstance(figure(run, path), int | float), (run.engine, path)
        assert run.report["steady"]["polls"] > 0, run.engine
        for name in ("drift_p99_ms", "loop_lag_max_ms", "total_cpu_ms_per_poll"):
            assert math.isfinite(run.report["steady"][name]), (run.engine, name)
    if with_go:
        go = report.runs[1].report
        assert go["steady"]["child_cpu_seconds"] > 0  # the Go engine's own process
        assert go["child_peak_rss_mb"] > 0
        assert go["go_stats_last"] is not None  # its stats message (every 10 s) arrived
    table = format_compare(report)
    assert "start drift p99 ms" in table
    assert "toward the limit of 2 cores" in table
    assert set(report_json(report)["limits"]) == set(engines)
    if not with_go:
        pytest.skip(f"the Python half passed; the Go engine is not built ({go_engine_program()})")

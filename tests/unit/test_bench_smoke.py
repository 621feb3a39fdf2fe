"""Keeps the benchmark harness from rotting: the fleet simulator (bench/fleet.py) with three
hosts, and the real engine polling it through bench/poll_throughput.py for a few seconds.
No timing assertions: only that polls happened and every host gave metrics."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for bench/

from bench.poll_throughput import BenchConfig, run_benchmark

# The simulator stands in for a fleet of Linux servers and is run on Linux only.
pytestmark = pytest.mark.posix_only


async def test_engine_polls_every_simulated_host(tmp_path: Path) -> None:
    config = BenchConfig(hosts=3, interval=5, seconds=8.0, warmup=2.0, log_file=False)

    report = await run_benchmark(config, tmp_path)

    assert report.whole.polls >= 3
    assert report.hosts_polled == 3
    assert report.hosts_ok_or_warning_with_metrics == ["sim-0000", "sim-0001", "sim-0002"]
    assert report.cancelled_polls == 0
    assert report.whole.engine_cpu_seconds > 0
    _, engine_share, writer_share, _, rss_mb, anon_mb = report.by_5min[0]
    assert 0 < writer_share < engine_share  # the writer thread is measured on its own
    assert 0 < anon_mb < rss_mb
    assert "first_poll" in report.fleet_log_tail  # the simulator answered and stopped cleanly

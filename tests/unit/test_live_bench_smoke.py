"""Keeps the live stream's benchmarks from rotting: each runs on a tiny fleet and reports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for bench/

from bench import live_stream_cost, results_write_cost


def test_the_results_writer_benchmark_reports_its_cost_and_the_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results_write_cost.main(["--hosts", "20", "--seconds", "70"])
    out = capsys.readouterr().out
    assert "writer CPU per poll" in out
    logged = int(out.split("live_log: ")[1].split()[0])
    assert logged > 140  # a check message per poll (2 a second for 70 s), and state changes


def test_the_live_stream_benchmark_reads_the_whole_backlog(
    capsys: pytest.CaptureFixture[str],
) -> None:
    live_stream_cost.main(["--messages", "1200"])
    out = capsys.readouterr().out
    assert "backlog read" in out
    assert "3 pages of 500" in out

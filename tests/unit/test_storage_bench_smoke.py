"""Keeps the storage benchmark (bench/storage_bench.py) from rotting: two hosts with one
container each for six simulated hours (one 6-hour roll-up). No size or timing assertions:
only that every stage ran and left history at every resolution that the chart queries find."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for bench/

from bench.storage_bench import parse_args, run


def test_storage_bench_runs_every_stage(tmp_path: Path) -> None:
    small = ["--hosts", "2", "--containers", "1", "--days", "0.25", "--interval", "60"]
    args = parse_args([*small, "--queries", "3"])

    report = run(args, tmp_path)

    assert report.series == 2 * (13 + 2)
    assert report.raw_samples_written == 6 * 60 * report.series
    assert report.raw_samples_kept == report.raw_samples_written  # inside the raw retention
    assert report.minute_buckets_kept == 6 * 60 * report.series
    assert report.hour_buckets_kept == 6 * report.series
    assert report.table_bytes["rollups"] > 0
    assert report.file_bytes > 0
    assert report.query_ms["1h"]["points"] == 60  # one raw sample a minute
    assert report.query_ms["30d"]["points"] == 6
    assert len(report.upkeep_seconds_per_hour) == 3

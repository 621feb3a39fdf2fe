"""Keeps the sync catch-up benchmark (bench/sync_catchup.py) from rotting: two hosts with one
container each for two hours, served by the real API in a process of its own, caught up into an
empty copy that then equals the node row by row. No timing or size assertions."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for bench/

from bench.sync_catchup import parse_args, run


def test_the_sync_bench_catches_up_an_equal_copy(tmp_path: Path) -> None:
    args = parse_args(["--hosts", "2", "--containers", "1", "--hours", "2", "--verify"])

    report = run(args, tmp_path)

    assert report.series == 2 * (13 + 2)
    assert report.equal is True
    assert report.history_pages == 1
    assert report.bytes_on_wire > 0
    assert report.copy_file_bytes > 0

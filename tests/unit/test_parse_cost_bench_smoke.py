"""Keeps the parsing benchmark (bench/parse_cost.py) from rotting: the simulated output it
times must be what a real host sends, i.e. parse completely. No timing assertions."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for bench/

from bench.parse_cost import measure, sample_outputs

from vpshealth.collectors.procfs_parsers import parse_snapshot


def test_simulated_output_parses_completely_and_is_timed() -> None:
    outputs = sample_outputs(3)
    for output in outputs:
        snapshot = parse_snapshot(output)
        assert snapshot.disks
        assert snapshot.network
        assert snapshot.memory.total_bytes > 0
    timings = measure(outputs, repeat=2)
    assert len(timings) == 2
    assert 0 < timings[0] <= timings[1]

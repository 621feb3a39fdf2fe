"""Keeps the scrape benchmark (bench/metrics_scrape.py) from rotting: ten hosts, two scrapes.
No timing assertions: only that every host and container made it into the exposition."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for bench/

from bench.metrics_scrape import parse_args, run


def test_the_scrape_benchmark_scrapes_every_host(tmp_path: Path) -> None:
    args = parse_args(["--hosts", "10", "--docker-share", "0.5", "--scrapes", "2"])

    report = run(args, tmp_path)

    assert report.hosts == 10
    assert report.containers == report.docker_hosts * 12
    assert report.exposition_lines > 10 * 20
    assert report.scrape_ms_median > 0

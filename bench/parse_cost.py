"""CPU to read one check's output: ``parse_snapshot`` on the output of simulated hosts
(``bench/fleet.py``'s models: /proc/stat, meminfo, loadavg, uptime, net/dev and df of a
Hetzner-like server, about 3.4 KB).

    uv run python bench/parse_cost.py [--hosts 50] [--repeat 40]

Prints the minimum, lower quartile and median of ``--repeat`` timings, each of 10 parses of
every host's output, per parse. The minimum is the least disturbed by other processes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fleet import _fixture_os_releases, make_model

from vpshealth.collectors.procfs_parsers import parse_snapshot

ROUNDS = 10


def sample_outputs(hosts: int) -> list[str]:
    """One check's output of each of ``hosts`` simulated hosts."""
    rng = random.Random(1)
    releases = _fixture_os_releases()
    now = time.time()
    return [make_model(f"h{i}", rng, releases).poll_output(now, first=False) for i in range(hosts)]


def measure(outputs: list[str], repeat: int) -> list[float]:
    """Seconds per parse, of each of ``repeat`` timings of ``ROUNDS`` passes, sorted."""
    timings = timeit.repeat(
        lambda: [parse_snapshot(output) for output in outputs], number=ROUNDS, repeat=repeat
    )
    return sorted(t / ROUNDS / len(outputs) for t in timings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    outputs = sample_outputs(args.hosts)
    per_parse = [t * 1e6 for t in measure(outputs, args.repeat)]
    size = sum(map(len, outputs)) / len(outputs)
    print(
        f"{args.hosts} outputs of {size:.0f} characters on average; per parse: "
        f"min {per_parse[0]:.1f} µs, p25 {per_parse[len(per_parse) // 4]:.1f} µs, "
        f"median {per_parse[len(per_parse) // 2]:.1f} µs"
    )


if __name__ == "__main__":
    main()

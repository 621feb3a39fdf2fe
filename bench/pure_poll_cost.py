"""The pure work of one poll, on the event loop: parse the poll output, judge it against the
host's rules, name its series, and evaluate its alert conditions (best of 5 x 3,000 calls).

    uv run python bench/pure_poll_cost.py [FIXTURE]

FIXTURE defaults to tests/fixtures/procfs/hetzner_docker_coolify.txt. Run it in two checkouts
(e.g. a `git worktree` of an older commit) one after the other to compare them.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from pathlib import Path

from vpshealth.collectors.procfs_parsers import parse_snapshot
from vpshealth.domain.alert_conditions import HostConditions
from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.health import CheckResult, HostState, assess
from vpshealth.domain.series import flatten

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FIXTURE = ROOT / "tests" / "fixtures" / "procfs" / "hetzner_docker_coolify.txt"
CALLS = 3000


def best_microseconds(fn: Callable[[], object]) -> float:
    return min(timeit.repeat(fn, number=CALLS, repeat=5)) / CALLS * 1e6


def main() -> None:
    text = Path(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FIXTURE).read_text()
    rules = RuleSet()
    metrics = parse_snapshot(text)
    result = CheckResult("h", 1000, HostState.OK, None, "", metrics)

    def whole() -> None:
        parsed = parse_snapshot(text)
        judged = assess(parsed, rules)
        flatten(parsed)
        HostConditions().observe(
            CheckResult("h", 1000, judged.state, judged.problem, judged.message, parsed), rules
        )

    steps: dict[str, Callable[[], object]] = {
        "parse": lambda: parse_snapshot(text),
        "assess": lambda: assess(metrics, rules),
        "flatten": lambda: flatten(metrics),
        "conditions": lambda: HostConditions().observe(result, rules),
        "all": whole,
    }
    for name, fn in steps.items():
        print(f"{name:11s} {best_microseconds(fn):7.1f} µs")


if __name__ == "__main__":
    main()

"""CPU of the results writer per poll: what the recorder's writer thread spends on
``ResultsWriter.write`` for a fleet polled every 10 s, batched once a second as the recorder
does (at 1,000 hosts: 100 results a batch), staged samples moved as in the service.

    uv run python bench/results_write_cost.py [--hosts 1000] [--seconds 300] [--interval 10]

Every host's result carries the metrics parsed from FIXTURE
(tests/fixtures/procfs/hetzner_docker_coolify.txt); every 30th result changes the host's state,
so state-change events are written too. Simulated time: one batch per simulated second, run
as fast as the writer goes. Reported: the writer thread's CPU (user + system) per poll, over
the whole run after a first minute of warm-up. Run it in two checkouts one after the other
(or with ``PYTHONPATH=<other checkout>/src``) to compare them.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine

from vpshealth.collectors.procfs_parsers import parse_snapshot
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.results_writer import ResultsWriter

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "procfs" / "hetzner_docker_coolify.txt"
T0 = 1_800_000_000
WARMUP_SECONDS = 60


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=300, help="simulated seconds")
    parser.add_argument("--interval", type=int, default=10, help="seconds between polls")
    args = parser.parse_args(argv)
    metrics = parse_snapshot(FIXTURE.read_text())
    clock = itertools.count()
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(Path(folder) / "bench.sqlite3")
        repo = HostRepository(engine)
        ids = [repo.add(Host(name=f"h{i:04d}", address=f"10.0.{i // 250}.{i % 250}"))
               for i in range(args.hosts)]  # fmt: skip
        writer = ResultsWriter(engine, record_incidents=False, monotonic=lambda: next(clock))
        per_second = args.hosts / args.interval
        polls = cpu = 0.0
        written = 0
        for second in range(args.seconds):
            due = int(per_second * (second + 1)) - int(per_second * second)
            batch = []
            for _ in range(due):
                host_id = ids[written % len(ids)]
                state = HostState.WARNING if written % 30 == 0 else HostState.OK
                problem = Problem.CPU_HIGH if state is HostState.WARNING else None
                batch.append(
                    (host_id, CheckResult(f"h{host_id}", T0 + second, state, problem, "", metrics))
                )
                written += 1
            started = time.thread_time()
            writer.write(batch)
            if second >= WARMUP_SECONDS:
                cpu += time.thread_time() - started
                polls += len(batch)
        live_bytes = _live_log_bytes(engine)
        engine.dispose()
    print(f"{args.hosts} hosts every {args.interval} s, {args.seconds} simulated seconds")
    print(f"writer CPU per poll: {cpu / polls * 1000:.3f} ms ({polls:.0f} polls measured)")
    print(f"share of one core at this rate: {cpu / polls * per_second * 100:.2f} %")
    if live_bytes is not None:
        rows, size = live_bytes
        print(f"live_log: {rows} messages, {size / max(rows, 1):.0f} bytes each with its index")


def _live_log_bytes(engine: Engine) -> tuple[int, int] | None:
    """Messages in the live stream's log and the bytes they take (table and index), where the
    checkout has one."""
    with engine.connect() as conn:
        tables = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
        if "live_log" not in tables:
            return None
        rows = int(conn.exec_driver_sql("SELECT count(*) FROM live_log").scalar_one())
        size = conn.exec_driver_sql(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('live_log', 'ix_live_log_kind_at')"
        ).scalar_one()
    return rows, int(size or 0)


if __name__ == "__main__":
    sys.exit(main())

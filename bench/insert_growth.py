"""CPU per inserted raw sample as the current hour's rows fill up: samples inserted straight
into their series (``--direct``, how the writer worked until the staged samples) or staged in
time order and moved to their series every ``MOVE_SECONDS`` of data (the results writer's way
now). Reproduces, without the engine, the writer thread's cost per poll through an hour (see
docs/performance.md, An hour at 1,000 hosts).

    uv run python bench/insert_growth.py [--series 13000] [--rounds 360] [--direct] \
        [--cache-kib 2000]

Each round inserts one sample for every series (one poll of every host at a 10 s interval),
in transactions of 1,300 rows as the results writer does about once a second. Every 60 rounds
(10 minutes of data) it prints the CPU (user + system) per sample over those rounds, moves
included.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vpshealth.domain.hosts import Host
from vpshealth.store import staged_samples
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.results_writer import insert_samples
from vpshealth.store.schema import series

T0 = 1_800_000_000
METRICS_PER_HOST = 13
ROWS_PER_TRANSACTION = 1300
DIRECT = (
    "INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?) "
    "ON CONFLICT (series_id, ts) DO NOTHING"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--series", type=int, default=13_000)
    parser.add_argument("--rounds", type=int, default=360)
    parser.add_argument("--direct", action="store_true", help="insert into samples directly")
    parser.add_argument("--cache-kib", type=int, default=2000, help="SQLite page cache")
    args = parser.parse_args(argv)
    engine = open_database(Path(tempfile.mkdtemp()) / "insert-growth.sqlite3")

    @event.listens_for(engine, "connect")
    def _cache(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA cache_size = -{args.cache_kib}")

    engine.dispose()
    repository = HostRepository(engine)
    hosts = [
        repository.add(Host(name=f"h{i}", address="192.0.2.1"))
        for i in range(args.series // METRICS_PER_HOST)
    ]
    with engine.begin() as conn:
        conn.execute(
            series.insert(),
            [{"host_id": h, "metric": f"m{j}"} for h in hosts for j in range(METRICS_PER_HOST)],
        )
    ids = list(range(1, len(hosts) * METRICS_PER_HOST + 1))
    rounds_per_move = int(staged_samples.MOVE_SECONDS) // 10
    rng = random.Random(1)
    spent: list[float] = []
    for r in range(args.rounds):
        rows = [(sid, T0 + r * 10, round(rng.random() * 100, 2)) for sid in ids]
        began = time.process_time()
        for start in range(0, len(rows), ROWS_PER_TRANSACTION):
            batch = rows[start : start + ROWS_PER_TRANSACTION]
            with engine.begin() as conn:
                if args.direct:
                    conn.exec_driver_sql(DIRECT, batch)
                else:
                    insert_samples(conn, batch)
        if not args.direct and r % rounds_per_move == rounds_per_move - 1:
            staged_samples.move_staged(engine)
        spent.append(time.process_time() - began)
        if r % 60 == 59:
            per_sample = sum(spent[-60:]) / (60 * len(ids)) * 1e6
            print(
                f"{'direct' if args.direct else 'staged'}, cache {args.cache_kib} KiB, "
                f"{(r + 1) * 10 // 60} min of data: "
                f"{per_sample:.1f} µs CPU per sample",
                flush=True,
            )
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Storage benchmark: weeks of history for a fleet, written in simulated time through the real
compaction, rollup and retention code, then the size of the file and the latency of chart
queries.

    uv run python bench/storage_bench.py [--hosts 100] [--containers 20] [--days 30] \\
        [--interval 10] [--db PATH] [--json out.json]

Each simulated host has 13 host series (CPU, load 1/5/15, memory % and bytes, swap, two
disks, one interface) and two series per container (CPU %, memory bytes), with synthetic but
realistic values (the same models as ``bench/chunk_codec_bench.py``, with state carried
across hours). Every ``--interval`` seconds each host gets one check row and one sample per
series, inserted with the results writer's own statements (``insert_samples``,
``insert_checks``). After every simulated hour the service's upkeep runs, as it does every
5 minutes: ``Compactor.compact``, ``Rollups.run`` and ``prune_history`` with the default
retention (raw 48 h, 1-minute buckets 30 days, 1-hour buckets 2 years).

What it does not write: ``host_status`` and ``containers`` (one row per host or container,
overwritten on every poll, so they do not grow with time) and events (only on state changes).

Reported: the file size and what each table takes (SQLite's ``dbstat``), bytes per stored raw
sample (the raw tables' bytes over the raw samples they hold), the time the hourly upkeep took,
and the latency of ``HistoryReader.series`` for 1 hour, 1 day and 30 days of one metric.
Everything in the file grows linearly with the number of series, so a run with fewer hosts
can be scaled up (``--hosts 100`` does that by running the full fleet).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vpshealth.domain.hosts import Host
from vpshealth.store.compaction import Compactor
from vpshealth.store.database import open_database
from vpshealth.store.history import HistoryReader
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.maintenance import Retention, prune_history, stats
from vpshealth.store.results_writer import insert_checks, insert_samples
from vpshealth.store.rollups import Rollups
from vpshealth.store.schema import sample_chunks, samples, series

HOUR = 3600
DAY = 86_400
KIB = 1024
GIB = 1024**3
START = 1_800_000_000 - 1_800_000_000 % (30 * DAY)

Model = Callable[[int], list[float]]


# ---------------------------------------------------------------- value models


def cpu_percent(rng: random.Random) -> Model:
    """Mean-reverting random walk around 15 %, two decimals like the collector."""
    x = rng.uniform(5, 30)

    def step(n: int) -> list[float]:
        nonlocal x
        out = []
        for _ in range(n):
            x = min(100.0, max(0.0, x + rng.gauss(0, 2) + 0.05 * (15 - x)))
            out.append(round(x, 2))
        return out

    return step


def load_average(rng: random.Random, decay: float) -> Model:
    x = rng.uniform(0, 2)

    def step(n: int) -> list[float]:
        nonlocal x
        out = []
        for _ in range(n):
            x = x * decay + rng.choice((0, 1, 1, 2, 3)) * (1 - decay)
            out.append(round(x, 2))
        return out

    return step


def memory(rng: random.Random) -> tuple[Model, Model]:
    """Used bytes drift by whole KiB; the percentage is derived from the same values."""
    used, total = rng.randrange(1, 6) * GIB, 8 * GIB
    last: list[float] = []

    def used_bytes(n: int) -> list[float]:
        nonlocal used
        last.clear()
        for _ in range(n):
            used += int(rng.gauss(0, 500)) * KIB
            last.append(float(used))
        return list(last)

    def percent(n: int) -> list[float]:
        return [round(100 * u / total, 2) for u in last[:n]]

    return used_bytes, percent


def constant(value: float) -> Model:
    return lambda n: [value] * n


def disk(rng: random.Random) -> tuple[Model, Model]:
    """Block counts (4 KiB multiples) growing slowly; the percentage creeps with them."""
    used, size = rng.randrange(5, 50) * GIB, 80 * GIB
    last: list[float] = []

    def used_bytes(n: int) -> list[float]:
        nonlocal used
        last.clear()
        for _ in range(n):
            used += rng.choice((0, 0, 1, 2, 3, 10, -1)) * 4 * KIB
            last.append(float(used))
        return list(last)

    def percent(n: int) -> list[float]:
        return [round(100 * u / size, 2) for u in last[:n]]

    return used_bytes, percent


def net_counter(rng: random.Random) -> Model:
    """Byte counter with log-uniform traffic: mostly small increments, some bursts."""
    x = rng.randrange(10**9, 10**12)

    def step(n: int) -> list[float]:
        nonlocal x
        out = []
        for _ in range(n):
            x += int(10 ** rng.uniform(2, 7))
            out.append(float(x))
        return out

    return step


def container_cpu(rng: random.Random) -> Model:
    """docker stats CPU %: mostly idle near 0, occasional spikes, two decimals."""
    busy = rng.random() < 0.2

    def step(n: int) -> list[float]:
        spikes = 0.3 if busy else 0.02
        return [
            round(rng.uniform(5, 80) if rng.random() < spikes else rng.expovariate(8.0), 2)
            for _ in range(n)
        ]

    return step


def container_memory(rng: random.Random) -> Model:
    """Resident memory in 4 KiB pages: steady with small moves, a jump now and then."""
    x = rng.randrange(20, 800) * 256 * 4 * KIB

    def step(n: int) -> list[float]:
        nonlocal x
        out = []
        for _ in range(n):
            r = rng.random()
            if r < 0.3:
                x += rng.randint(-8, 8) * 4 * KIB
            elif r < 0.301:
                x += rng.randint(-2000, 2000) * 4 * KIB
            out.append(float(x))
        return out

    return step


def host_models(rng: random.Random, containers: int) -> dict[str, Model]:
    mem_bytes, mem_percent = memory(rng)
    root_bytes, root_percent = disk(rng)
    data_bytes, data_percent = disk(rng)
    # Order matters: the byte models fill the values their percentages are derived from.
    models: dict[str, Model] = {
        "cpu.percent": cpu_percent(rng),
        "load.1": load_average(rng, 0.8465),
        "load.5": load_average(rng, 0.9672),
        "load.15": load_average(rng, 0.9889),
        "memory.used_bytes": mem_bytes,
        "memory.percent": mem_percent,
        "swap.used_bytes": constant(0.0),
        "disk.used_bytes:/": root_bytes,
        "disk.percent:/": root_percent,
        "disk.used_bytes:/data": data_bytes,
        "disk.percent:/data": data_percent,
        "net.rx_bytes:eth0": net_counter(rng),
        "net.tx_bytes:eth0": net_counter(rng),
    }
    for i in range(containers):
        models[f"container.cpu_percent:app-{i}"] = container_cpu(rng)
        models[f"container.memory_bytes:app-{i}"] = container_memory(rng)
    return models


# ---------------------------------------------------------------- the run


@dataclass
class Upkeep:
    compact: list[float] = field(default_factory=list)
    rollup: list[float] = field(default_factory=list)
    prune: list[float] = field(default_factory=list)


@dataclass
class Report:
    hosts: int
    containers: int
    days: float
    interval: int
    series: int
    wall_seconds: float
    raw_samples_written: int
    file_bytes: int
    free_bytes: int
    table_bytes: dict[str, int]
    raw_samples_kept: int
    raw_bytes_per_sample: float
    minute_buckets_kept: int
    hour_buckets_kept: int
    bytes_per_minute_bucket: float
    upkeep_seconds_per_hour: dict[str, dict[str, float]]
    query_ms: dict[str, dict[str, float]]
    oldest: dict[str, int | None]


def run(args: argparse.Namespace, folder: Path) -> Report:
    path = Path(args.db) if args.db else folder / "storage.sqlite3"
    engine = open_database(path)
    try:
        return _simulate(engine, path, args)
    finally:
        engine.dispose()


def _simulate(engine: Engine, path: Path, args: argparse.Namespace) -> Report:
    rng = random.Random(args.seed)
    hosts = HostRepository(engine)
    host_ids = [
        hosts.add(Host(name=f"sim-{i:04d}", address="192.0.2.1")) for i in range(args.hosts)
    ]
    models: list[tuple[int, Model]] = []
    with engine.begin() as conn:
        for host_id in host_ids:
            for metric, model in host_models(rng, args.containers).items():
                conn.execute(series.insert().values(host_id=host_id, metric=metric))
                series_id = conn.execute(
                    select(series.c.id).where(
                        series.c.host_id == host_id, series.c.metric == metric
                    )
                ).scalar_one()
                models.append((int(series_id), model))
    compactor, rollups, retention = Compactor(engine), Rollups(engine), Retention()
    upkeep = Upkeep()
    polls_per_hour = HOUR // args.interval
    hours = math.ceil(args.days * 24)
    written = 0
    began = time.perf_counter()
    for hour in range(hours):
        t0 = START + hour * HOUR
        columns = [(series_id, model(polls_per_hour)) for series_id, model in models]
        with engine.begin() as conn:
            for i in range(polls_per_hour):
                ts = t0 + i * args.interval
                insert_samples(conn, [(sid, ts, values[i]) for sid, values in columns])
                insert_checks(conn, [(host_id, ts, "ok", None, "ok", 40) for host_id in host_ids])
        written += polls_per_hour * len(models)
        now = t0 + HOUR + 150  # the upkeep run just after the hour (and the rollup lag)
        _timed(upkeep.compact, compactor.compact, now)
        _timed(upkeep.rollup, rollups.run, now)
        _timed(upkeep.prune, prune_history, engine, now, retention)
        if args.progress and hour % 24 == 23:
            print(f"  day {(hour + 1) // 24}: {time.perf_counter() - began:.0f} s", flush=True)
    wall = time.perf_counter() - began
    end = START + hours * HOUR
    return _report(engine, path, args, models, upkeep, written, wall, end)


def _timed(into: list[float], fn: Callable[..., object], *args: object) -> None:
    began = time.perf_counter()
    fn(*args)
    into.append(time.perf_counter() - began)


def _report(
    engine: Engine,
    path: Path,
    args: argparse.Namespace,
    models: list[tuple[int, Model]],
    upkeep: Upkeep,
    written: int,
    wall: float,
    end: int,
) -> Report:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        table_bytes: dict[str, int] = {}
        for name, size in conn.exec_driver_sql(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ):
            table_bytes[str(name)] = int(size)
        raw_rows = conn.execute(select(func.count()).select_from(samples)).scalar_one()
        chunked = conn.execute(select(func.coalesce(func.sum(sample_chunks.c.count), 0)))
        raw_kept = int(raw_rows) + int(chunked.scalar_one())
        buckets = {
            int(r): int(n)
            for r, n in conn.exec_driver_sql(
                "SELECT resolution, sum(count) FROM rollups GROUP BY resolution"
            )
        }
    raw_tables = ("samples", "sample_chunks", "sqlite_autoindex_sample_chunks_1")
    raw_bytes = sum(table_bytes.get(name, 0) for name in raw_tables)
    rollup_bytes = table_bytes.get("rollups", 0) + table_bytes.get("sqlite_autoindex_rollups_1", 0)
    s = stats(engine, path)
    return Report(
        hosts=args.hosts,
        containers=args.containers,
        days=args.days,
        interval=args.interval,
        series=len(models),
        wall_seconds=round(wall, 1),
        raw_samples_written=written,
        file_bytes=s.file_bytes,
        free_bytes=s.free_pages * s.page_size,
        table_bytes=table_bytes,
        raw_samples_kept=raw_kept,
        raw_bytes_per_sample=round(raw_bytes / raw_kept, 3) if raw_kept else 0.0,
        minute_buckets_kept=buckets.get(60, 0),
        hour_buckets_kept=buckets.get(3600, 0),
        bytes_per_minute_bucket=round(rollup_bytes / max(buckets.get(60, 0), 1), 3),
        upkeep_seconds_per_hour={
            name: _summary(getattr(upkeep, name)) for name in ("compact", "rollup", "prune")
        },
        query_ms=_query_latency(engine, [sid for sid, _ in models], end, args.queries),
        oldest={"raw": s.oldest_chunk, "1m": s.oldest_minute, "1h": s.oldest_hour},
    )


def _summary(seconds: list[float]) -> dict[str, float]:
    # The first day has no pruning and no full day blocks yet: the steady state is after it.
    steady = seconds[24:] or seconds
    return {
        "mean": round(statistics.fmean(steady), 4),
        "p99": round(_quantile(steady, 0.99), 4),
        "max": round(max(steady), 4),
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _query_latency(
    engine: Engine, series_ids: list[int], end: int, queries: int
) -> dict[str, dict[str, float]]:
    """Each query on its own fresh reader, like a chart being opened; a different series
    each time so no query finds its blocks in SQLite's page cache from the one before."""
    with engine.connect() as conn:
        rows = conn.execute(select(series.c.id, series.c.host_id, series.c.metric)).all()
    by_id = {row.id: (row.host_id, row.metric) for row in rows}
    picks = [
        by_id[sid] for sid in random.Random(7).sample(series_ids, min(queries, len(series_ids)))
    ]
    reader = HistoryReader(engine)
    out: dict[str, dict[str, float]] = {}
    for label, span in (("1h", HOUR), ("24h", DAY), ("30d", 30 * DAY)):
        times, points = [], []
        for host_id, metric in picks:
            began = time.perf_counter()
            data = reader.series(host_id, metric, end - span, end, now=end)
            times.append((time.perf_counter() - began) * 1000)
            points.append(len(data))
        out[label] = {
            "median": round(statistics.median(times), 2),
            "p90": round(_quantile(times, 0.9), 2),
            "max": round(max(times), 2),
            "points": statistics.median(points),
        }
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--containers", type=int, default=20, help="per host")
    parser.add_argument("--days", type=float, default=30.0, help="simulated time")
    parser.add_argument("--interval", type=int, default=10, help="seconds between polls")
    parser.add_argument("--queries", type=int, default=20, help="series queried per range")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="keep the database at this path (default: a temp dir)")
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--progress", action="store_true", help="print a line per day")
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="only time the chart queries on the --db of an earlier run with the same --days",
    )
    return parser.parse_args(argv)


def queries_only(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    engine = open_database(Path(args.db))
    try:
        with engine.connect() as conn:
            ids = list(conn.execute(select(series.c.id)).scalars())
        end = START + math.ceil(args.days * 24) * HOUR
        return _query_latency(engine, ids, end, args.queries)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.queries_only:
        print(json.dumps(queries_only(args), indent=2))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        report = run(args, Path(folder))
    text = json.dumps(asdict(report), indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

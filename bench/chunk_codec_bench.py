"""Benchmark of ``vpshealth.store.chunk_codec`` on synthetic but realistic metric series.

For each series type it encodes ``--chunks`` independent chunks of ``--samples`` samples and
prints the blob size per sample, the on-disk size per sample once the chunks are stored in
SQLite (``sample_chunks`` as a WITHOUT ROWID table, as in the schema, and as a rowid table for
comparison), and the best-of-N encode and decode time of one chunk.

A WITHOUT ROWID table is an index b-tree: on 4 KiB pages a row keeps at most about 1000 bytes
in the page and the rest goes to an overflow page of its own, so chunks just over 1 KB cost
a whole extra page each (compare the two sqlite columns for the byte counters).

The decode time is shown next to ``ref``, the time to build one float per sample from ints
(``list(map(truediv, ints, repeat(100)))``), measured alternately with it: on a shared or
slow machine the ratio is more telling than the absolute µs.

    uv run python bench/chunk_codec_bench.py [--samples 360] [--interval 10] [--jitter]
"""

from __future__ import annotations

import argparse
import gc
import random
import sqlite3
import statistics
import timeit
from collections.abc import Callable
from functools import partial
from itertools import repeat
from operator import truediv

from vpshealth.store.chunk_codec import CODEC_FLOAT, decode, encode

Generator = Callable[[random.Random, int], list[float]]

KIB = 1024
GIB = 1024**3


def cpu_percent(rng: random.Random, n: int) -> list[float]:
    """Mean-reverting random walk around 15 %, rounded like the collector does."""
    x, out = rng.uniform(5, 30), []
    for _ in range(n):
        x = min(100.0, max(0.0, x + rng.gauss(0, 2) + 0.05 * (15 - x)))
        out.append(round(x, 2))
    return out


def memory_used_bytes(rng: random.Random, n: int) -> list[float]:
    """/proc/meminfo is in KiB: used bytes drift by whole KiB, a few MB per sample."""
    x, out = rng.randrange(1, 6) * GIB, []
    for _ in range(n):
        x += int(rng.gauss(0, 500)) * KIB
        out.append(float(x))
    return out


def memory_percent(rng: random.Random, n: int) -> list[float]:
    total = 8 * GIB
    return [round(100 * used / total, 2) for used in memory_used_bytes(rng, n)]


def load_1(rng: random.Random, n: int) -> list[float]:
    """Exponentially damped run-queue length sampled every 10 s, two decimals."""
    x, out = rng.uniform(0, 2), []
    for _ in range(n):
        x = x * 0.8465 + rng.choice((0, 1, 1, 2, 3)) * (1 - 0.8465)
        out.append(round(x, 2))
    return out


def disk_percent(rng: random.Random, n: int) -> list[float]:
    """Nearly constant, creeping up by 0.01 now and then."""
    x, out = round(rng.uniform(20, 80), 2), []
    for _ in range(n):
        if rng.random() < 0.02:
            x = round(x + 0.01, 2)
        out.append(x)
    return out


def disk_used_bytes(rng: random.Random, n: int) -> list[float]:
    """statvfs block counts: multiples of 4 KiB, mostly growing slowly (logs)."""
    x, out = rng.randrange(5, 50) * GIB, []
    for _ in range(n):
        x += rng.choice((0, 0, 1, 2, 3, 10, -1)) * 4 * KIB
        out.append(float(x))
    return out


def net_counter_uniform(rng: random.Random, n: int) -> list[float]:
    """Byte counter growing by a uniformly random 1e3..1e6 per sample (about 20 bits of
    entropy per sample, so about 2.5 bytes is the floor for any lossless codec)."""
    x, out = rng.randrange(10**9, 10**12), []
    for _ in range(n):
        x += rng.randint(1_000, 1_000_000)
        out.append(float(x))
    return out


def net_counter_bursty(rng: random.Random, n: int) -> list[float]:
    """Byte counter with log-uniform traffic: mostly small increments, some bursts."""
    x, out = rng.randrange(10**9, 10**12), []
    for _ in range(n):
        x += int(10 ** rng.uniform(2, 7))
        out.append(float(x))
    return out


def container_cpu(rng: random.Random, n: int) -> list[float]:
    """docker stats CPUPerc: mostly idle near 0 %, occasional spikes, two decimals."""
    return [
        round(rng.expovariate(2.0) if rng.random() < 0.9 else rng.uniform(5, 80), 2)
        for _ in range(n)
    ]


def container_cpu_unrounded(rng: random.Random, n: int) -> list[float]:
    """The same computed from cgroup counters without rounding: needs CODEC_FLOAT."""
    return [rng.expovariate(2.0) * 1.000_000_1 for _ in range(n)]


def constant(rng: random.Random, n: int) -> list[float]:
    return [float(rng.randrange(1, 64))] * n


SERIES: dict[str, Generator] = {
    "cpu.percent": cpu_percent,
    "memory.used_bytes": memory_used_bytes,
    "memory.percent": memory_percent,
    "load.1": load_1,
    "disk.percent": disk_percent,
    "disk.used_bytes": disk_used_bytes,
    "net.rx_bytes (1e3..1e6/sample)": net_counter_uniform,
    "net.tx_bytes (bursty)": net_counter_bursty,
    "container.cpu": container_cpu,
    "container.cpu unrounded": container_cpu_unrounded,
    "constant": constant,
}


def timestamps(rng: random.Random, n: int, interval: int, jitter: bool) -> list[int]:
    """Poll times; with jitter one poll in five lands a second early or late."""
    out = [rng.randrange(1_700_000_000, 1_800_000_000)]
    for _ in range(n - 1):
        slip = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 1, -1)) if jitter else 0
        out.append(out[-1] + interval + slip)
    return out


def sqlite_bytes(
    blobs: list[tuple[int, bytes]], count: int, starts: list[int], without_rowid: bool
) -> int:
    """Bytes that the chunks add to a database file (pages used, 4 KiB pages)."""
    db = sqlite3.connect(":memory:")
    suffix = " WITHOUT ROWID" if without_rowid else ""
    db.execute(
        "CREATE TABLE sample_chunks (series_id INTEGER NOT NULL, start_ts INTEGER NOT NULL,"
        " end_ts INTEGER NOT NULL, count INTEGER NOT NULL, codec INTEGER NOT NULL,"
        f" data BLOB NOT NULL, PRIMARY KEY (series_id, start_ts)){suffix}"
    )
    before = db.execute("PRAGMA page_count").fetchone()[0]
    db.executemany(
        "INSERT INTO sample_chunks VALUES (?, ?, ?, ?, ?, ?)",
        [
            (7, start, start + 3599, count, codec, blob)
            for start, (codec, blob) in zip(starts, blobs, strict=True)
        ],
    )
    pages = db.execute("PRAGMA page_count").fetchone()[0] - before
    page_size: int = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    return int(pages * page_size)


def best_us(fn: Callable[[], object], number: int, repeats: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeats)) / number * 1e6


def measure_sizes(
    generate: Generator, args: argparse.Namespace, rng: random.Random
) -> tuple[int, list[float], float, float]:
    """(codec, blob bytes/sample per chunk, SQLite bytes/sample WITHOUT ROWID and rowid)."""
    n = args.samples
    blobs = []
    for _ in range(args.chunks):
        ts = timestamps(rng, n, args.interval, args.jitter)
        values = generate(rng, n)
        codec, blob = encode(ts, values)
        got_ts, got_values = decode(codec, blob)
        assert got_ts == ts
        assert got_values == (values if codec == CODEC_FLOAT else [round(v, 2) for v in values])
        blobs.append((codec, blob))
    samples = n * args.chunks
    starts = [i * 3600 for i in range(args.chunks)]
    without_rowid = sqlite_bytes(blobs, n, starts, without_rowid=True) / samples
    rowid = sqlite_bytes(blobs, n, starts, without_rowid=False) / samples
    return blobs[0][0], [len(blob) / n for _, blob in blobs], without_rowid, rowid


def measure_speed(
    generate: Generator, args: argparse.Namespace, rng: random.Random
) -> tuple[float, float, float]:
    """Best-of-N µs to encode and decode one chunk, and of the reference operation."""
    gc.collect()
    ts = timestamps(rng, args.samples, args.interval, args.jitter)
    values = generate(rng, args.samples)
    codec, blob = encode(ts, values)
    reference = list(range(10**9, 10**9 + args.samples))
    enc = best_us(partial(encode, ts, values), 10, args.repeat)
    # Alternate the two so that both see the same machine load (shared CI machines vary).
    dec_runs, ref_runs = [], []
    for _ in range(args.repeat):
        dec_runs.append(best_us(partial(decode, codec, blob), 100, 1))
        ref_runs.append(best_us(partial(reference_op, reference), 100, 1))
    return enc, min(dec_runs), min(ref_runs)


def reference_op(ints: list[int]) -> list[float]:
    """What any decoder of scaled integers must at least do: one float per sample."""
    return list(map(truediv, ints, repeat(100)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=360, help="samples per chunk")
    parser.add_argument("--interval", type=int, default=10, help="seconds between samples")
    parser.add_argument("--jitter", action="store_true", help="irregular poll times")
    parser.add_argument("--chunks", type=int, default=200, help="chunks per series type")
    parser.add_argument("--repeat", type=int, default=30, help="timeit best of N")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(
        f"{args.samples} samples/chunk, {args.interval} s interval, jitter={args.jitter}, "
        f"{args.chunks} chunks per type. ref = list(map(truediv, <{args.samples} ints>, "
        "repeat(100))), timed next to each decode as a machine-speed yardstick."
    )
    header = (
        f"{'series':32s} {'codec':>5s} {'B/sample':>8s} {'max':>6s} {'sqlite WR':>9s} "
        f"{'sqlite rowid':>12s} {'enc µs':>7s} {'dec µs':>7s} {'ref µs':>7s} {'dec/ref':>7s}"
    )
    print(header)
    print("-" * len(header))
    for name, generate in SERIES.items():
        codec, per_sample, without_rowid, rowid = measure_sizes(generate, args, rng)
        enc, dec, ref = measure_speed(generate, args, rng)
        codec_name = "float" if codec == CODEC_FLOAT else "int"
        print(
            f"{name:32s} {codec_name:>5s} {statistics.fmean(per_sample):8.3f} "
            f"{max(per_sample):6.3f} {without_rowid:9.3f} {rowid:12.3f} "
            f"{enc:7.0f} {dec:7.1f} {ref:7.1f} {dec / ref:7.1f}"
        )


if __name__ == "__main__":
    main()

"""What the live stream costs beyond writing its log: reading a backlog for a client that
resumes (``LiveLog.after`` page by page) and encoding a message for a subscriber.

    uv run python bench/live_stream_cost.py [--messages 360000]

The log is filled with check messages as the results writer makes them (the metrics parsed from
tests/fixtures/procfs/hetzner_docker_coolify.txt); 360,000 is an hour of them at 1,000 hosts
polled every 10 s, the default retention of check messages.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import timeit
from pathlib import Path

from vpshealth.collectors.procfs_parsers import parse_snapshot
from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.live import ALL_KINDS, LiveKind, check_draft
from vpshealth.store import live_log
from vpshealth.store.database import open_database
from vpshealth.store.live_log import PAGE_SIZE, LiveLog

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "procfs" / "hetzner_docker_coolify.txt"
T0 = 1_800_000_000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=360_000)
    args = parser.parse_args(argv)
    metrics = parse_snapshot(FIXTURE.read_text())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        engine = open_database(path)
        drafts = [
            check_draft(i % 1000, CheckResult(f"h{i % 1000:04d}", T0 + i // 100, HostState.OK,
                                              None, "All good", metrics))
            for i in range(args.messages)
        ]  # fmt: skip
        with engine.begin() as conn:
            for start in range(0, len(drafts), 100):
                live_log.append(conn, drafts[start : start + 100])
        size = path.stat().st_size
        log = LiveLog(engine)
        started = time.perf_counter()
        cursor, read, pages = 0, 0, 0
        while page := log.after(cursor, ALL_KINDS):
            cursor, read, pages = page[-1].seq, read + len(page), pages + 1
        backlog = time.perf_counter() - started
        started = time.perf_counter()
        cursor = 0
        while page := log.after(cursor, {LiveKind.STATE}):
            cursor = page[-1].seq
        rare = time.perf_counter() - started
        message = log.after(0, ALL_KINDS, limit=1)[0]

        def encoded() -> str:
            return json.dumps(message.to_json(), separators=(",", ":"))

        encode = min(timeit.repeat(encoded, number=10_000, repeat=5))
        engine.dispose()
    print(f"{args.messages} check messages, file {size / 1e6:.1f} MB")
    print(f"backlog read: {backlog:.2f} s ({read / backlog:,.0f} messages/s, {pages} pages of "
          f"{PAGE_SIZE})")  # fmt: skip
    print(f"backlog of another kind (none there): {rare * 1000:.0f} ms")
    print(f"encoding one message for a subscriber: {encode / 10_000 * 1e6:.1f} µs")


if __name__ == "__main__":
    main()

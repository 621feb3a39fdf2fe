"""Where the engine's CPU goes, from a py-spy recording of bench/poll_throughput.py.

    uv run python bench/poll_throughput.py --hosts 1000 --minutes 3 --no-log-file &
    # after the warm-up, with PID the benchmark's python process:
    uvx py-spy record -p PID -d 60 -r 25 --threads --format raw -o spy.txt
    uv run python bench/profile_summary.py spy.txt

Each sample (a stack of one thread that was running; py-spy skips idle threads, and idle
worker threads it misses are dropped here) is put in the first category that matches walking
from the innermost frame outwards, so time spent inside asyncssh on behalf of our code counts
as asyncssh.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

_FRAME = re.compile(r"(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")

# (category, needles in "file function"), checked from the innermost frame outwards; asyncio
# frames are skipped over, so a socket send made by asyncssh counts as asyncssh
_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("parse /proc output", ("procfs_parsers.py",)),
    ("Docker probe / collector", ("docker_access.py", "docker_collector.py", "docker_http.py")),
    ("database", ("results_writer.py", "sqlalchemy/", "sqlite3", "host_repository.py")),
    ("database", ("metrics_json", "compaction.py", "docker_repository.py")),
    ("logging", ("logging/",)),
    ("poller", ("engine/poller.py",)),
    ("domain models (validation, flatten, assess)", ("domain/",)),
    ("scheduler (incl. its semaphore)", ("engine/scheduler.py",)),
    ("service / recorder", ("engine/service.py", "engine/recorder.py")),
    (
        "benchmark probes",
        ("poll_throughput.py Probe", "poll_throughput.py MeasuringClock", "py Monitor"),
    ),
    ("asyncssh", ("asyncssh/",)),
]
_DATABASE_OWNERS = (
    ("results_writer.py", "database: results writer (SQLAlchemy + sqlite3)"),
    ("host_repository.py", "database: host list refresh every 5 s"),
    ("compaction.py", "database: compaction"),
    ("docker_repository.py", "database: Docker memory"),
)
_IDLE_LEAVES = ("_worker (concurrent/futures/thread.py:81)", "Condition.wait", "Event.wait")


def categorize(frames: list[str]) -> str | None:
    """None for a thread that was only waiting (an idle worker)."""
    if frames and frames[-1].startswith(_IDLE_LEAVES):
        return None
    for frame in reversed(frames):
        match = _FRAME.match(frame)
        where = f"{match.group('file')} {match.group('func')}" if match else frame
        for category, needles in _RULES:
            if any(needle in where for needle in needles):
                stack = ";".join(frames)
                if category == "database":
                    for owner, label in _DATABASE_OWNERS:
                        if owner in stack:
                            return label
                    return "database: other"
                if category == "asyncssh":
                    if "send_packet" in stack:
                        return "asyncssh: build, encrypt, send packets (incl. send(2))"
                    if "_recv_data" in stack:
                        return "asyncssh: receive, decrypt, dispatch packets"
                    return "asyncssh: other (sessions, channels, connect)"
                return category
    if any("asyncio/" in f or "selectors.py" in f for f in frames):
        return "asyncio event loop (callbacks, epoll, recv(2))"
    return "other"


def summarize(path: Path) -> str:
    by_thread: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        head, *frames = stack.split(";")
        thread = head.split(": ", 1)[-1]
        if thread.startswith("asyncio_"):
            thread = "asyncio.to_thread workers"
        elif thread.startswith("vpshealth-writer"):
            thread = "recorder writer thread"
        category = categorize(frames)
        if category is None:
            continue
        by_thread[thread] += count
        by_category[thread][category] += count
    total = sum(by_thread.values()) or 1
    lines = [f"{'thread / category':58s}{'samples':>8s}{'share':>8s}"]
    for thread, count in by_thread.most_common():
        lines.append(f"{thread:58s}{count:>8d}{count / total:>8.1%}")
        for category, n in by_category[thread].most_common():
            lines.append(f"    {category:54s}{n:>8d}{n / total:>8.1%}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("recording", type=Path, help="py-spy record --format raw output")
    print(summarize(parser.parse_args().recording))


if __name__ == "__main__":
    main()

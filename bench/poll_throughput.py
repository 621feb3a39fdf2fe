"""Throughput of the real engine against a simulated fleet: the ``Service`` (scheduler,
SSH pollers, recorder, SQLite) polling N simulated hosts (``bench/fleet.py``, started here as
a separate process) every ``--interval`` seconds for ``--minutes``.

    uv run python bench/poll_throughput.py --hosts 1000 --minutes 5 [--interval 10] \\
        [--warmup 30] [--slow-share F] [--flap-share F] [--unreachable-share F] \\
        [--docker-share F] [--json out.json] [--profile out.prof]

Reports, for the steady state (after ``--warmup``, which covers opening every connection)
and for the whole run: the engine process's CPU seconds per poll and share of one core, its
peak RSS, how many polls finished inside their interval, scheduling drift (actual start of a
poll minus when it was due), and event-loop lag (lateness of a 100 ms ticker). The
simulator's CPU is measured separately (it is another process), so the engine's figures are
its own.

How drift is measured: the engine's clock is wrapped. The scheduler sleeps on it until a host
is due, so the wrapper learns each due time (now + the requested sleep) and which task asked;
the poller is wrapped too and notes when that task's poll really starts (after waiting for a
concurrency slot) and ends. drift = start - due. A poll started without a sleep (its slot was
already due) is counted against the latest point of the host's grid.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import cProfile
import gc
import json
import logging
import math
import pstats
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, astuple, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import asyncssh
import psutil
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fleet import FleetProcess, raise_fd_limit
from bench.heap_report import append_heap_report, proc_status_kib
from bench.stall_watch import StallWatch

from vpshealth.app import Core, build_core
from vpshealth.clock import Clock, SystemClock
from vpshealth.config import GO_ENGINE_NAME, Paths, Settings
from vpshealth.domain.health import CheckResult
from vpshealth.domain.hosts import Host, HostKind
from vpshealth.domain.listen_address import ListenAddress
from vpshealth.engine import heap
from vpshealth.engine.credentials import CredentialSource
from vpshealth.engine.docker_monitor import IncidentSink
from vpshealth.engine.poller import Poller, RuleSource
from vpshealth.engine.service import Service
from vpshealth.logging_setup import configure_logging
from vpshealth.secrets import SecretStore, new_key_ref

MAX_MINUTES = 120


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict, for benchmarks. It has no ``priority``, so keyring never picks it
    on its own: it is only used where it is passed in."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError("no such secret")


# --- probes ------------------------------------------------------------------------------


@dataclass(slots=True)
class PollSample:
    host: str
    due: float
    start: float
    end: float
    state: str
    problem: str | None
    has_metrics: bool
    slept: bool


class Probe:
    """Collects a sample per poll, from a wrapped clock and wrapped pollers."""

    SPILL_EVERY = 4096
    """Polls kept in memory before they are appended to the record file."""

    def __init__(self, interval: float, record: Path) -> None:
        self.interval = interval
        self._record = record
        record.write_bytes(b"")
        self._rows = array.array("d")  # due, start, end, host index, outcome index of each poll
        self._names: dict[str, int] = {}
        self._kinds: dict[tuple[str, str | None, bool, bool], int] = {}
        self.cancelled = 0  # polls cancelled (timeout) before the run was asked to stop
        self.stopping = False
        self._dues: dict[asyncio.Task[Any], float] = {}
        self._last_due: dict[str, float] = {}

    def add(self, sample: PollSample) -> None:
        """Appended to a file every few thousand polls: the engine's memory figures should not
        grow with the benchmark's own record (32 bytes a poll kept in memory were 11 MB an
        hour at 1,000 hosts)."""
        host = self._names.setdefault(sample.host, len(self._names))
        kind = (sample.state, sample.problem, sample.has_metrics, sample.slept)
        outcome = self._kinds.setdefault(kind, len(self._kinds))
        self._rows.extend((sample.due, sample.start, sample.end, host, outcome))
        if len(self._rows) >= 5 * self.SPILL_EVERY:
            with self._record.open("ab") as out:
                self._rows.tofile(out)
            del self._rows[:]

    @property
    def samples(self) -> list[PollSample]:
        """Every poll so far, as objects (for the analysis, after the run)."""
        names = list(self._names)
        kinds = list(self._kinds)
        rows = array.array("d", self._record.read_bytes())
        rows.extend(self._rows)
        return [
            PollSample(
                names[int(rows[i + 3])], rows[i], rows[i + 1], rows[i + 2], *kinds[int(rows[i + 4])]
            )
            for i in range(0, len(rows), 5)
        ]

    def note_sleep(self, due: float) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._dues[task] = due

    def due_for(self, host: str, start: float) -> tuple[float, bool]:
        task = asyncio.current_task()
        due = self._dues.pop(task, None) if task is not None else None
        slept = due is not None
        if due is None:  # the slot was already due when the previous poll finished
            last = self._last_due.get(host, start)
            due = last + self.interval
            while due + self.interval <= start:
                due += self.interval
            due = min(due, start)
        self._last_due[host] = due
        return due, slept


class MeasuringClock:
    def __init__(self, inner: Clock, probe: Probe) -> None:
        self._inner = inner
        self._probe = probe

    def now(self) -> float:
        return self._inner.now()

    async def sleep(self, seconds: float) -> None:
        self._probe.note_sleep(self._inner.now() + seconds)
        await self._inner.sleep(seconds)


class ProbedPoller:
    def __init__(self, inner: Poller, probe: Probe, clock: Clock) -> None:
        self._inner = inner
        self._probe = probe
        self._clock = clock

    @property
    def host(self) -> Host:
        return self._inner.host

    async def poll(self) -> CheckResult:
        start = self._clock.now()
        due, slept = self._probe.due_for(self.host.name, start)
        try:
            result = await self._inner.poll()
        except asyncio.CancelledError:  # timed out by the scheduler, or stopping
            if not self._probe.stopping:
                self._probe.cancelled += 1
            raise
        self._probe.add(
            PollSample(
                self.host.name,
                due,
                start,
                self._clock.now(),
                result.state.value,
                result.problem.value if result.problem else None,
                result.metrics is not None,
                slept,
            )
        )
        return result

    async def close(self) -> None:
        await self._inner.close()


@dataclass
class ResourceSample:
    t: float
    engine_cpu: float
    engine_rss: int
    fleet_cpu: float
    writer_cpu: float  # the recorder's writer thread, 0 before it started
    engine_rss_anon: int  # of engine_rss: memory not backed by a file (the heap, arenas)
    child_cpu: float = 0.0  # the Go engine's process (VPSHEALTH_ENGINE=go), over its restarts
    child_rss: int = 0


class Monitor:
    """Event-loop lag ticker and a once-a-second resource sampler."""

    def __init__(self, fleet_pids: Sequence[int], tick: float = 0.1) -> None:
        """``fleet_pids``: the simulator's processes, measured apart (0 CPU without)."""
        self.tick = tick
        # (wall time, lateness in s, share of the tick's wall time the main thread ran) of
        # each tick, flat in an array: 24 bytes a tick instead of 140 as tuples of floats
        self._lag = array.array("d")
        # the once-a-second samples, flat as well: objects would be 2 MB an hour of the
        # engine's memory figures
        self._resources = array.array("d")
        self._me = psutil.Process()
        self._fleet = [psutil.Process(pid) for pid in fleet_pids]
        self._child: psutil.Process | None = None
        self._child_cpu_before = 0.0  # CPU of the Go engine's earlier processes (restarts)
        self._child_cpu_last = 0.0
        self.go_stats: list[tuple[float, Any]] = []  # (when seen, the engine's stats message)
        self.stats_source: Callable[[], Any] | None = None

    def _child_figures(self) -> tuple[float, int]:
        """The Go engine's CPU seconds (summed over restarts) and RSS; (0, 0) without one."""
        if self._child is None or not self._child.is_running():
            if self._child is not None:
                self._child_cpu_before += self._child_cpu_last
                self._child_cpu_last = 0.0
            self._child = next(
                (p for p in self._me.children() if p.name().startswith(GO_ENGINE_NAME)), None
            )
        if self._child is None:
            return self._child_cpu_before, 0
        try:
            times = self._child.cpu_times()
            rss = self._child.memory_info().rss
        except psutil.Error:
            return self._child_cpu_before + self._child_cpu_last, 0
        self._child_cpu_last = times.user + times.system
        return self._child_cpu_before + self._child_cpu_last, rss

    def _note_stats(self, now: float) -> None:
        if self.stats_source is None:
            return
        stats = self.stats_source()
        if stats is not None and (not self.go_stats or self.go_stats[-1][1] is not stats):
            self.go_stats.append((now, stats))

    def sample(self) -> ResourceSample:
        mine = self._me.cpu_times()
        fleet = 0.0
        for process in self._fleet:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                fleet += times.user + times.system
        child_cpu, child_rss = self._child_figures()
        sample = ResourceSample(
            time.time(),
            mine.user + mine.system,
            self._me.memory_info().rss,
            fleet,
            _writer_cpu(),
            proc_status_kib().get("RssAnon", 0) * 1024,
            child_cpu,
            child_rss,
        )
        self._resources.extend(astuple(sample))
        self._note_stats(sample.t)
        return sample

    @property
    def resources(self) -> list[ResourceSample]:
        """Every sample so far, as objects (for the analysis, after the run)."""
        v = self._resources
        return [
            ResourceSample(
                v[i], v[i + 1], int(v[i + 2]), v[i + 3], v[i + 4], int(v[i + 5]), v[i + 6],
                int(v[i + 7]),
            )
            for i in range(0, len(v), len(fields(ResourceSample)))
        ]  # fmt: skip

    @property
    def lag(self) -> Iterator[tuple[float, float, float]]:
        ticks = iter(self._lag)
        return zip(ticks, ticks, ticks, strict=True)

    async def run_ticker(self) -> None:
        loop = asyncio.get_running_loop()
        target = loop.time() + self.tick
        wall, cpu = loop.time(), time.thread_time()
        while True:
            await asyncio.sleep(max(target - loop.time(), 0))
            now, now_cpu = loop.time(), time.thread_time()
            late = now - target
            self._lag.extend((time.time(), late, (now_cpu - cpu) / max(now - wall, 1e-9)))
            wall, cpu = now, now_cpu
            target = max(target + self.tick, now)

    async def run_sampler(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(1.0)


# --- the benchmark -----------------------------------------------------------------------


@dataclass
class BenchConfig:
    hosts: int = 100
    interval: int = 10
    seconds: float = 180.0
    warmup: float | None = None  # default: 2 intervals + 5 s
    slow_share: float = 0.0
    flap_share: float = 0.0
    unreachable_share: float = 0.0
    docker_share: float = 0.0
    realistic_sleep: bool = False
    write_gap_ms: float | None = None  # the simulator's default (a real shell's pace)
    max_concurrent_polls: int | None = None
    log_file: bool = False  # log to a file at INFO as the real service does
    profile: Path | None = None
    seed: str = "1"
    on_time_tolerance: float = 1.0  # seconds a poll may start after it was due
    tracemalloc: bool = False  # where the memory goes (slows the engine: not for timing)
    stall_stacks: Path | None = None  # write the stacks of loop stalls here
    heap_report: Path | None = None  # append what the memory is made of every 10 minutes
    api_load: bool = False  # serve the API and load it with bench/api_load.py (20 req/s, 5 WS)
    engine: str = "python"  # the service's check engine: "python" or "go" (VPSHEALTH_ENGINE)
    go_engine_path: Path | None = None  # default: the service's own lookup

    @property
    def warmup_seconds(self) -> float:
        if self.warmup is not None:
            return self.warmup
        return min(2 * self.interval + 5.0, self.seconds / 2)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


@dataclass
class WindowFigures:
    seconds: float
    polls: int
    polls_per_second: float
    engine_cpu_seconds: float
    cpu_ms_per_poll: float
    engine_core_share: float
    fleet_core_share: float
    machine_busy_share: float
    others_core_share: float
    in_time_share: float
    started_on_time_share: float
    on_time_share: float
    drift_p50_ms: float
    drift_p99_ms: float
    drift_max_ms: float
    duration_p50_ms: float
    duration_p99_ms: float
    loop_lag_p99_ms: float
    loop_lag_max_ms: float
    worst_tick_main_thread_cpu_share: float  # low: the loop was waiting (GIL, preempted)
    late_without_sleep: int
    # the Go engine's process (VPSHEALTH_ENGINE=go); 0 with the Python engine
    child_cpu_seconds: float = 0.0
    child_cpu_ms_per_poll: float = 0.0
    child_core_share: float = 0.0
    total_cpu_ms_per_poll: float = 0.0  # the service's and the Go engine's: the hybrid's cost
    go_tick_late_max_ms: float = float("nan")  # the Go engine's own longest stall (its stats)


@dataclass
class BenchReport:
    config: dict[str, Any]
    steady: WindowFigures
    whole: WindowFigures
    peak_rss_mb: float
    steady_rss_mb: float
    states: dict[str, int]
    problems: dict[str, int]
    hosts_with_metrics: int
    hosts_ok_or_warning_with_metrics: list[str]
    hosts_polled: int
    cancelled_polls: int
    threads_cpu_seconds: dict[str, float]
    fleet_log_tail: str
    memory_top: list[tuple[str, float]]
    frozen_garbage: int  # cycles kept by gc.freeze() during the run, freed at its end
    rss_mb_by_30s: list[tuple[int, float]]  # (seconds since start, highest RSS in MB)
    by_5min: list[tuple[float, ...]]  # see _five_minute_timeline
    started_at: float
    machine: dict[str, Any] = field(default_factory=dict)
    api_load: dict[str, Any] | None = None  # bench/api_load.py's report
    engine: str = "python"
    child_peak_rss_mb: float = 0.0  # the Go engine's process
    go_stats_last: dict[str, Any] | None = None  # the Go engine's last stats message

    @property
    def rss_target_mb(self) -> int:
        """150 MB for the engine; the API is given 25 MB more."""
        return 175 if self.config.get("api_load") else 150

    def targets(self) -> dict[str, tuple[bool, str]]:
        s = self.steady
        return {
            "every poll on time": (
                s.on_time_share >= 1.0 and self.cancelled_polls == 0,
                f"{100 * s.on_time_share:.2f} % started within "
                f"{self.config['on_time_tolerance']:g} s of due and finished inside the interval",
            ),
            "engine < 25 % of one core": (
                s.engine_core_share < 0.25,
                f"{100 * s.engine_core_share:.1f} %",
            ),
            f"RSS < {self.rss_target_mb} MB": (
                self.peak_rss_mb < self.rss_target_mb,
                f"peak {self.peak_rss_mb:.0f} MB",
            ),
            "loop stall < 50 ms": (s.loop_lag_max_ms < 50, f"max {s.loop_lag_max_ms:.1f} ms"),
        }


def _window(
    probe: Probe,
    monitor: Monitor,
    t0: float,
    t1: float,
    cpu0: tuple[float, float, Any, float],
    cpu1: tuple[float, float, Any, float],
    interval: float,
    tolerance: float,
) -> WindowFigures:
    samples = [s for s in probe.samples if s.start >= t0 and s.end <= t1]
    seconds = max(t1 - t0, 1e-9)
    engine_cpu = cpu1[0] - cpu0[0]
    fleet_cpu = cpu1[1] - cpu0[1]
    child_cpu = cpu1[3] - cpu0[3]
    polls = len(samples)
    # a stats message covers the 10 s before it: those seen inside the window
    tick_late = [
        float(stats.max_tick_late_ms) for at, stats in monitor.go_stats if t0 + 1 < at <= t1 + 1
    ]
    busy = 0.0
    if cpu0[2] is not None and cpu1[2] is not None:
        idle = (cpu1[2].idle + cpu1[2].iowait) - (cpu0[2].idle + cpu0[2].iowait)
        total = sum(cpu1[2]) - sum(cpu0[2])
        busy = 1 - idle / total if total > 0 else 0.0
    drift = [(s.start - s.due) * 1000 for s in samples]
    durations = [(s.end - s.start) * 1000 for s in samples]
    ticks = [(late * 1000, cpu) for at, late, cpu in monitor.lag if t0 <= at <= t1]
    lag = [late for late, _ in ticks]
    worst = max(ticks, default=(0.0, float("nan")))
    in_time = sum(1 for s in samples if s.end - s.due <= interval)
    started_on_time = sum(1 for s in samples if s.start - s.due <= tolerance)
    on_time = sum(1 for s in samples if s.start - s.due <= tolerance and s.end - s.due <= interval)
    return WindowFigures(
        seconds=seconds,
        polls=len(samples),
        polls_per_second=len(samples) / seconds,
        engine_cpu_seconds=engine_cpu,
        cpu_ms_per_poll=1000 * engine_cpu / len(samples) if samples else float("nan"),
        engine_core_share=engine_cpu / seconds,
        fleet_core_share=fleet_cpu / seconds,
        machine_busy_share=busy,
        others_core_share=max(
            busy * (psutil.cpu_count() or 1) - (engine_cpu + child_cpu + fleet_cpu) / seconds, 0.0
        ),
        in_time_share=in_time / len(samples) if samples else 0.0,
        started_on_time_share=started_on_time / len(samples) if samples else 0.0,
        on_time_share=on_time / len(samples) if samples else 0.0,
        drift_p50_ms=_percentile(drift, 50),
        drift_p99_ms=_percentile(drift, 99),
        drift_max_ms=max(drift, default=float("nan")),
        duration_p50_ms=_percentile(durations, 50),
        duration_p99_ms=_percentile(durations, 99),
        loop_lag_p99_ms=_percentile(lag, 99),
        loop_lag_max_ms=max(lag, default=float("nan")),
        worst_tick_main_thread_cpu_share=worst[1],
        late_without_sleep=sum(1 for s in samples if not s.slept),
        child_cpu_seconds=child_cpu,
        child_cpu_ms_per_poll=1000 * child_cpu / polls if polls else float("nan"),
        child_core_share=child_cpu / seconds,
        total_cpu_ms_per_poll=1000 * (engine_cpu + child_cpu) / polls if polls else float("nan"),
        go_tick_late_max_ms=max(tick_late, default=float("nan")),
    )


async def _write_heap_reports(path: Path, started_at: float, every: float = 600.0) -> None:
    await asyncio.sleep(60.0)
    while True:
        append_heap_report(path, f"{(time.time() - started_at) / 60:.1f} min")
        await asyncio.sleep(every)


def _writer_cpu() -> float:
    for thread in threading.enumerate():
        if thread.name.startswith("vpshealth-writer") and thread.ident is not None:
            with contextlib.suppress(OSError):
                return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return 0.0


def _thread_cpu() -> dict[str, float]:
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for thread in psutil.Process().threads():
        name = names.get(thread.id, f"native-{thread.id}")
        if name.startswith("asyncio_"):
            name = "asyncio.to_thread workers"
        elif name.startswith("vpshealth-writer"):
            name = "recorder writer thread"
        elif name == "MainThread":
            name = "event loop (main thread)"
        out[name] = out.get(name, 0.0) + thread.user_time + thread.system_time
    return out


def _where(frame: tracemalloc.Frame, root: str) -> str:
    where = f"{frame.filename}:{frame.lineno}"
    return where.replace(root, "").replace("/site-packages/", " ")[-60:]


def _memory_top(since: tracemalloc.Snapshot | None, limit: int = 30) -> list[tuple[str, float]]:
    """Live Python allocations by source line (MB), only those made while tracing; with
    ``since``, what grew during the steady state."""
    snapshot = tracemalloc.take_snapshot()
    root = str(Path(sys.prefix).parent)
    top = []
    if since is None:
        stats = snapshot.statistics("lineno")
        sized = [(stat.traceback[0], stat.size) for stat in stats]
    else:
        diffs = snapshot.compare_to(since, "traceback")
        sized = [(diff.traceback, diff.size_diff) for diff in diffs]
    for where, size in sized[:limit]:
        frames = where if isinstance(where, tracemalloc.Traceback) else [where]
        name = " < ".join(_where(frame, root) for frame in reversed(list(frames)))
        top.append((name, round(size / 1e6, 2)))
    top.append(("total", round(sum(size for _, size in sized) / 1e6, 2)))
    return top


def _cpu_snapshot(monitor: Monitor) -> tuple[float, float, Any, float]:
    sample = monitor.sample()
    return sample.engine_cpu, sample.fleet_cpu, psutil.cpu_times(), sample.child_cpu


def _fleet_args(config: BenchConfig) -> list[str]:
    args = [
        "--slow-share", str(config.slow_share),
        "--flap-share", str(config.flap_share),
        "--unreachable-share", str(config.unreachable_share),
        "--docker-share", str(config.docker_share),
        "--seed", config.seed,
    ]  # fmt: skip
    if config.realistic_sleep:
        args.append("--realistic-sleep")
    if config.write_gap_ms is not None:
        args += ["--write-gap-ms", str(config.write_gap_ms)]
    return args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_api_load(
    address: ListenAddress, token: str, target: Target, seconds: float, workdir: Path
) -> subprocess.Popen[bytes]:
    names = ",".join(h["name"] for h in target.hosts)
    return subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("api_load.py")),
            "--url",
            address.url,
            "--token",
            token,
            "--hosts",
            names,
            "--seconds",
            str(seconds),
            "--json",
            str(workdir / "api_load.json"),
        ],
        stdout=subprocess.DEVNULL,
    )


@dataclass
class Target:
    """What the service polls: host entries (``name``, ``port``, ``host_key``: the
    simulator's manifest, or a real sshd's), the login user, and the process answering them
    (the simulator's processes, measured apart; none when the caller measures it)."""

    hosts: list[dict[str, Any]]
    user: str = "bench"
    peer_pids: list[int] = field(default_factory=list)

    @classmethod
    def of_fleet(cls, fleet: FleetProcess) -> Target:
        return cls(fleet.hosts, "bench", fleet.pids)


def write_client_key(workdir: Path) -> tuple[Path, str]:
    """A new ed25519 client key: its public key file in ``workdir`` and the private key's
    OpenSSH text (the service gets it through its secret store, never a file)."""
    client_key = asyncssh.generate_private_key("ssh-ed25519", comment="vpshealth-bench")
    pub_path = workdir / "client_ed25519.pub"
    pub_path.write_bytes(client_key.export_public_key())
    return pub_path, client_key.export_private_key("openssh").decode()


def fleet_for(
    config: BenchConfig, workdir: Path, authorized_key: Path, seconds: float, base_port: int = 0
) -> FleetProcess:
    """The simulator for ``config`` (not started), running ``seconds`` plus a margin; host i
    on ``base_port`` + i (0: any free port)."""
    extra = ["--base-port", str(base_port)] if base_port else []
    return FleetProcess(
        config.hosts,
        authorized_key,
        workdir,
        duration=seconds + 300,
        extra_args=_fleet_args(config) + extra,
    )


def add_fleet_hosts(
    core: Core, fleet_hosts: list[dict[str, Any]], interval: int, key: str, user: str = "bench"
) -> None:
    """Disable the built-in localhost and add every simulated host, its key in the
    SecretStore (one keyring entry per host, as ``host add`` makes)."""
    for record in core.hosts.list():
        if record.host.kind is HostKind.LOCAL and record.host.enabled:
            core.hosts.replace(record.host.name, record.host.model_copy(update={"enabled": False}))
    for entry in fleet_hosts:
        ref = new_key_ref()
        core.secrets.put(ref, key)
        core.hosts.add(
            Host(
                name=entry["name"],
                address="127.0.0.1",
                port=entry["port"],
                user=user,
                key_ref=ref,
                interval_seconds=interval,
                host_key=entry["host_key"],
            )
        )


async def run_benchmark(config: BenchConfig, workdir: Path | None = None) -> BenchReport:
    """Start the simulator, run the service against it for ``config.seconds``, stop both and
    return the figures. ``workdir`` keeps the database, logs and simulator log (else a
    temporary folder is used and removed)."""
    if not 0 < config.seconds <= MAX_MINUTES * 60:
        raise ValueError(f"seconds must be within {MAX_MINUTES:g} minutes")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="vh-bench-") as tmp:
            return await _run_in(config, Path(tmp))
    workdir.mkdir(parents=True, exist_ok=True)
    return await _run_in(config, workdir)


async def _run_in(config: BenchConfig, workdir: Path) -> BenchReport:
    pub_path, private_text = write_client_key(workdir)
    fleet = fleet_for(config, workdir, pub_path, config.seconds)
    await asyncio.to_thread(fleet.start)
    try:
        report = await run_service_against(config, workdir, Target.of_fleet(fleet), private_text)
    finally:
        await asyncio.to_thread(fleet.stop)
    report.fleet_log_tail = fleet.log_path.read_text()[-1500:]
    load_file = workdir / "api_load.json"
    if config.api_load and load_file.exists():
        report.api_load = json.loads(load_file.read_text())
    return report


def _create_database_elsewhere(settings: Settings) -> None:
    """The engine then opens an existing, current file, as a restarted service does, and
    does not load the migration tool (Alembic, about 11 MB) for the run."""
    paths = Paths.from_settings(settings)
    paths.ensure()
    code = (
        "import sys; from pathlib import Path; "
        "from vpshealth.store.database import open_database; "
        "open_database(Path(sys.argv[1])).dispose()"
    )
    subprocess.run([sys.executable, "-c", code, str(paths.database)], check=True)


@dataclass
class GoOutcomes:
    """What the service recorded with the Go engine, by outcome (the timing of each check
    comes from the engine's observer, which does not know the outcome)."""

    states: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    polled: set[str] = field(default_factory=set)
    with_metrics: set[str] = field(default_factory=set)
    good: set[str] = field(default_factory=set)  # ok or warning, with metrics


def observe_go_engine(core: Core, probe: Probe, names: dict[int, str]) -> None:
    """The service built next gets an observer on its Go engine that feeds ``probe`` with
    each check's due_at, started_at and duration, as the engine saw them."""

    def observe(
        host_id: int, due_at: float, started_at: float, checked_at: float, duration_ms: int
    ) -> None:
        name = names.get(host_id, str(host_id))
        end = started_at + duration_ms / 1000
        probe.add(PollSample(name, due_at, started_at, end, "-", None, False, True))

    engine_factory = core.engine_factory
    setattr(core, "engine_factory", lambda observer=None: engine_factory(observe))  # noqa: B010


def watch_go_engine(service: Service, monitor: Monitor, names: dict[int, str]) -> GoOutcomes:
    """``monitor`` follows the Go engine's stats; what is recorded is counted by outcome."""
    engine: Any = getattr(service, "_scheduler", None)
    if not hasattr(engine, "latest_stats"):
        raise RuntimeError("the service runs no Go engine: is VPSHEALTH_ENGINE=go understood?")
    monitor.stats_source = lambda: engine.latest_stats
    outcomes = GoOutcomes()
    recorder = service._recorder
    add = recorder.add

    def counted_add(host_id: int, result: CheckResult) -> None:
        name = names.get(host_id, str(host_id))
        outcomes.states[result.state.value] += 1
        outcomes.problems[result.problem.value if result.problem else "-"] += 1
        outcomes.polled.add(name)
        if result.metrics is not None:
            outcomes.with_metrics.add(name)
            if result.state.value in ("ok", "warning"):
                outcomes.good.add(name)
        add(host_id, result)

    setattr(recorder, "add", counted_add)  # noqa: B010 - the bound method, replaced for the run
    return outcomes


def _probe_python_engine(core: Core, probe: Probe) -> None:
    """The clock wrapper and the probed pollers (the drift method of this module's doc)."""
    core.clock = MeasuringClock(SystemClock(), probe)
    make_poller = core.make_poller

    def probed_make_poller(
        host_id: int | None,
        host: Host,
        rules: RuleSource,
        on_incidents: IncidentSink | None = None,
        credentials: CredentialSource | None = None,
    ) -> Poller:
        poller = make_poller(host_id, host, rules, on_incidents, credentials)
        return ProbedPoller(poller, probe, core.clock)

    core.make_poller = probed_make_poller


async def run_service_against(
    config: BenchConfig,
    workdir: Path,
    target: Target,
    private_key: str,
    on_phase: Callable[[str], None] | None = None,
) -> BenchReport:
    """Run the service (its database, logs and data under ``workdir``) polling ``target``
    with ``config.engine`` for ``config.seconds``, and return the figures. ``on_phase`` is
    told "steady" when the steady state begins and "end" when it ends (to measure a peer
    from outside at the same moments)."""
    if not 0 < config.seconds <= MAX_MINUTES * 60:
        raise ValueError(f"seconds must be within {MAX_MINUTES:g} minutes")
    raise_fd_limit(2 * len(target.hosts) + 256)  # a connection per host, the Go engine's too
    overrides: dict[str, Any] = {"home": workdir / "home", "engine": config.engine}
    if config.max_concurrent_polls is not None:
        overrides["max_concurrent_polls"] = config.max_concurrent_polls
    if config.go_engine_path is not None:
        overrides["go_engine_path"] = config.go_engine_path
    settings = Settings(**overrides)
    if getattr(settings, "engine", "python") != config.engine:
        raise RuntimeError(
            f"this checkout's service has no {config.engine!r} engine setting (VPSHEALTH_ENGINE)"
        )
    await asyncio.to_thread(_create_database_elsewhere, settings)
    core = build_core(settings, secrets=SecretStore(MemoryKeyring()))
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    outcomes: GoOutcomes | None = None
    try:
        if config.log_file:
            configure_logging(core.paths.log_file("service"), verbose=False)
        await asyncio.to_thread(
            add_fleet_hosts, core, target.hosts, config.interval, private_key, target.user
        )
        probe = Probe(float(config.interval), workdir / "polls.bin")
        if config.engine == "python":
            _probe_python_engine(core, probe)
        monitor = Monitor(target.peer_pids)
        api_address = None
        if config.api_load:
            api_address = ListenAddress("127.0.0.1", _free_port())
            api_token = core.api_tokens.create("bench").token
        names = {r.id: r.host.name for r in core.hosts.list()}
        if config.engine == "go":
            observe_go_engine(core, probe, names)
        service = core.build_service(api=api_address)
        if config.engine == "go":
            outcomes = watch_go_engine(service, monitor, names)

        profiler = cProfile.Profile() if config.profile else None
        if config.tracemalloc:
            tracemalloc.start(4)
        stall_watch = StallWatch() if config.stall_stacks is not None else None
        if stall_watch is not None:
            stall_watch.start()
        helpers = [
            asyncio.create_task(monitor.run_ticker(), name="bench lag ticker"),
            asyncio.create_task(monitor.run_sampler(), name="bench sampler"),
        ]
        started_at = time.time()
        if config.heap_report is not None:
            config.heap_report.write_text("")
            helpers.append(asyncio.create_task(_write_heap_reports(config.heap_report, started_at)))
        cpu_start = _cpu_snapshot(monitor)
        if profiler is not None:
            profiler.enable()
        runner = asyncio.create_task(service.run(), name="service")
        load = None
        if api_address is not None:
            load = _start_api_load(api_address, api_token, target, config.seconds, workdir)
        try:
            await asyncio.wait({runner}, timeout=config.warmup_seconds)
            steady_at = time.time()
            if on_phase is not None:
                on_phase("steady")
            at_steady = tracemalloc.take_snapshot() if config.tracemalloc else None
            cpu_steady = _cpu_snapshot(monitor)
            threads_before = _thread_cpu()
            await asyncio.wait({runner}, timeout=max(config.seconds - config.warmup_seconds, 0))
            ended_at = time.time()
            # before the analysis below allocates: the peak is the engine's, not ours
            maxrss_at_end = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            cpu_end = _cpu_snapshot(monitor)
            if on_phase is not None:
                on_phase("end")
            threads_after = _thread_cpu()
            if config.heap_report is not None:
                label = f"end, {(ended_at - started_at) / 60:.1f} min"
                append_heap_report(config.heap_report, label, objects=True)
            memory_top = _memory_top(at_steady) if config.tracemalloc else []
            gc.collect()  # what the ordinary collections would free anyway
            frozen_garbage = heap.full_collection()
        finally:
            if profiler is not None:
                profiler.disable()
            if stall_watch is not None:
                stall_watch.stop()
                census = stall_watch.census()
            probe.stopping = True
            service.request_stop()
            try:
                async with asyncio.timeout(120):
                    await runner
            finally:
                for helper in helpers:
                    helper.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
                if load is not None:
                    await asyncio.to_thread(load.wait, 120)
        if stall_watch is not None and config.stall_stacks is not None:
            config.stall_stacks.write_text(stall_watch.report(since=steady_at) + "\n" + census)
        if profiler is not None and config.profile is not None:
            profiler.dump_stats(config.profile)
            with open(config.profile.with_suffix(".txt"), "w") as out:
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("tottime").print_stats(40)
                stats.sort_stats("cumulative").print_stats(60)
    finally:
        if config.tracemalloc:
            tracemalloc.stop()
        if config.log_file:
            for handler in list(root.handlers):
                root.removeHandler(handler)
                handler.close()
            for handler in saved_logging[0]:
                root.addHandler(handler)
            root.setLevel(saved_logging[1])
        core.close()

    interval = float(config.interval)
    tolerance = config.on_time_tolerance
    steady = _window(probe, monitor, steady_at, ended_at, cpu_steady, cpu_end, interval, tolerance)
    whole = _window(probe, monitor, started_at, ended_at, cpu_start, cpu_end, interval, tolerance)
    in_run = [s for s in probe.samples if s.end <= ended_at]
    states = Counter(s.state for s in in_run)
    problems = Counter(s.problem or "-" for s in in_run)
    good = sorted({s.host for s in in_run if s.has_metrics and s.state in ("ok", "warning")})
    with_metrics = len({s.host for s in in_run if s.has_metrics})
    if outcomes is not None:
        states, problems = outcomes.states, outcomes.problems
        good, with_metrics = sorted(outcomes.good), len(outcomes.with_metrics)
    last_stats = monitor.go_stats[-1][1] if monitor.go_stats else None
    steady_rss = [r.engine_rss for r in monitor.resources if r.t >= steady_at]
    peak_rss = max(
        maxrss_at_end,
        max((r.engine_rss for r in monitor.resources if r.t <= ended_at), default=0),
    )
    threads = {
        name: round(cpu - threads_before.get(name, 0.0), 3)
        for name, cpu in sorted(threads_after.items(), key=lambda item: -item[1])
    }
    return BenchReport(
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        steady=steady,
        whole=whole,
        peak_rss_mb=peak_rss / 1e6,
        steady_rss_mb=statistics.median(steady_rss) / 1e6 if steady_rss else float("nan"),
        states=dict(states),
        problems=dict(problems),
        hosts_with_metrics=with_metrics,
        hosts_ok_or_warning_with_metrics=good,
        hosts_polled=len({s.host for s in in_run}),
        cancelled_polls=probe.cancelled,
        threads_cpu_seconds=threads,
        fleet_log_tail="",  # filled in once the simulator has stopped
        memory_top=memory_top,
        frozen_garbage=frozen_garbage,
        rss_mb_by_30s=_rss_timeline(monitor.resources, started_at),
        by_5min=_five_minute_timeline(monitor, started_at),
        started_at=started_at,
        machine=machine_info(),
        engine=config.engine,
        child_peak_rss_mb=max((r.child_rss for r in monitor.resources), default=0) / 1e6,
        go_stats_last=(
            asdict(last_stats)
            if is_dataclass(last_stats) and not isinstance(last_stats, type)
            else None
        ),
    )


def _rss_timeline(samples: list[ResourceSample], started_at: float) -> list[tuple[int, float]]:
    highest: dict[int, int] = {}
    for sample in samples:
        slot = int((sample.t - started_at) // 30) * 30
        highest[slot] = max(highest.get(slot, 0), sample.engine_rss)
    return [(slot, round(rss / 1e6, 1)) for slot, rss in sorted(highest.items())]


def _five_minute_timeline(monitor: Monitor, started_at: float) -> list[tuple[float, ...]]:
    """Where in a long run the CPU and the stalls are (the hourly fold shows up here): (start
    in s, engine's share of one core, of it the writer thread's, longest stall in ms, RSS and
    anonymous RSS in MB at the slot's end)."""
    first: dict[int, ResourceSample] = {}
    last: dict[int, ResourceSample] = {}
    for sample in monitor.resources:
        slot = int((sample.t - started_at) // 300) * 300
        first.setdefault(slot, sample)
        last[slot] = sample
    stalls: dict[int, float] = {}
    for t, late, _ in monitor.lag:
        slot = int((t - started_at) // 300) * 300
        stalls[slot] = max(stalls.get(slot, 0.0), late)
    timeline: list[tuple[float, ...]] = []
    for slot in sorted(first):
        a, b = first[slot], last[slot]
        if b.t <= a.t:
            continue
        timeline.append(
            (
                slot,
                round((b.engine_cpu - a.engine_cpu) / (b.t - a.t), 3),
                round((b.writer_cpu - a.writer_cpu) / (b.t - a.t), 3),
                round(stalls.get(slot, 0.0) * 1000, 1),
                round(b.engine_rss / 1e6, 1),
                round(b.engine_rss_anon / 1e6, 1),
            )
        )
    return timeline


def machine_info() -> dict[str, Any]:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": psutil.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "asyncssh": asyncssh.__version__,
    }


def format_report(report: BenchReport) -> str:
    c = report.config
    lines = [
        f"engine {report.engine}  hosts {c['hosts']}  interval {c['interval']} s  "
        f"run {c['seconds']:.0f} s  "
        f"warm-up {report.whole.seconds - report.steady.seconds:.0f} s  "
        f"slow {c['slow_share']} flap {c['flap_share']} unreachable {c['unreachable_share']} "
        f"docker {c['docker_share']}",
        "",
        f"{'':34s}{'steady state':>16s}{'whole run':>16s}",
    ]
    rows = [
        ("polls", "{:.0f}", "polls"),
        ("polls per second", "{:.1f}", "polls_per_second"),
        ("engine CPU ms per poll", "{:.2f}", "cpu_ms_per_poll"),
        ("engine CPU, share of one core", "{:.1%}", "engine_core_share"),
        ("simulator CPU, share of one core", "{:.1%}", "fleet_core_share"),
        ("machine busy (all cores)", "{:.1%}", "machine_busy_share"),
        ("other processes, cores busy", "{:.2f}", "others_core_share"),
        ("polls finished inside interval", "{:.2%}", "in_time_share"),
        ("polls started within tolerance", "{:.2%}", "started_on_time_share"),
        ("polls on time (both)", "{:.2%}", "on_time_share"),
        ("drift p50 ms", "{:.1f}", "drift_p50_ms"),
        ("drift p99 ms", "{:.1f}", "drift_p99_ms"),
        ("drift max ms", "{:.1f}", "drift_max_ms"),
        ("poll duration p50 ms", "{:.1f}", "duration_p50_ms"),
        ("poll duration p99 ms", "{:.1f}", "duration_p99_ms"),
        ("event-loop lag p99 ms", "{:.1f}", "loop_lag_p99_ms"),
        ("event-loop lag max ms", "{:.1f}", "loop_lag_max_ms"),
        ("  main thread ran, worst tick", "{:.0%}", "worst_tick_main_thread_cpu_share"),
        ("polls started without a sleep", "{:.0f}", "late_without_sleep"),
    ]
    if report.engine == "go":
        rows += [
            ("Go engine CPU ms per poll", "{:.2f}", "child_cpu_ms_per_poll"),
            ("Go engine CPU, share of one core", "{:.1%}", "child_core_share"),
            ("service + Go engine CPU ms per poll", "{:.2f}", "total_cpu_ms_per_poll"),
            ("Go engine longest tick late ms", "{:.1f}", "go_tick_late_max_ms"),
        ]
    for label, fmt, attr in rows:
        steady = fmt.format(getattr(report.steady, attr))
        whole = fmt.format(getattr(report.whole, attr))
        lines.append(f"{label:34s}{steady:>16s}{whole:>16s}")
    lines += [
        "",
        f"peak RSS {report.peak_rss_mb:.1f} MB, steady median {report.steady_rss_mb:.1f} MB"
        + (f"; Go engine peak {report.child_peak_rss_mb:.1f} MB" if report.engine == "go" else ""),
        "RSS by 30 s (highest, MB): "
        + " ".join(f"{slot}s:{mb:.0f}" for slot, mb in report.rss_mb_by_30s),
        "by 5 minutes (start: core share (writer thread), longest stall, RSS (anonymous)):",
        *(
            f"  {slot:5.0f}s  {share:6.1%} ({writer:5.1%})  {ms:4.0f} ms  {rss:6.1f} MB"
            f" ({anon:.1f})"
            for slot, share, writer, ms, rss, anon in report.by_5min
        ),
        f"states {report.states}; problems {report.problems}; cancelled polls "
        f"{report.cancelled_polls}",
        f"hosts polled {report.hosts_polled}, with metrics {report.hosts_with_metrics}",
        f"garbage cycles kept frozen during the run (freed by a full collection at its end): "
        f"{report.frozen_garbage} objects",
        "engine CPU by thread, steady state (s): "
        + ", ".join(f"{k} {v:.2f}" for k, v in report.threads_cpu_seconds.items() if v > 0.005),
        *(f"  memory {name}: {mb:.2f} MB" for name, mb in report.memory_top),
        "",
        "targets:",
    ]
    for name, (met, detail) in report.targets().items():
        lines.append(f"  {'MET ' if met else 'MISS'} {name}: {detail}")
    if report.api_load is not None:
        load = report.api_load
        lines += [
            "",
            f"API load: {load['requests']} requests ({load['requests_per_second']}/s), "
            f"live messages per subscriber {load['live_messages_per_subscriber']}",
            *(f"  {k}: {v}" for k, v in load["statuses"].items()),
            *(f"  {k}: {v}" for k, v in load["latency_ms"].items()),
        ]
    return "\n".join(lines)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of a run against a fleet, shared with bench/engine_compare.py."""
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument(
        "--warmup", type=float, default=None, help="seconds (default 2 intervals + 5)"
    )
    parser.add_argument("--no-log-file", action="store_true", help="skip INFO logging to a file")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--workdir", type=Path, default=None, help="keep databases and logs here")


def check_run_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not 0 < args.minutes <= MAX_MINUTES:
        parser.error(f"--minutes must be within {MAX_MINUTES:g}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_run_arguments(parser)
    parser.add_argument(
        "--engine", choices=("python", "go"), default="python", help="VPSHEALTH_ENGINE"
    )
    parser.add_argument("--slow-share", type=float, default=0.0)
    parser.add_argument("--flap-share", type=float, default=0.0)
    parser.add_argument("--unreachable-share", type=float, default=0.0)
    parser.add_argument("--docker-share", type=float, default=0.0)
    parser.add_argument("--realistic-sleep", action="store_true")
    parser.add_argument("--max-concurrent-polls", type=int, default=None)
    parser.add_argument("--on-time-tolerance", type=float, default=1.0, help="seconds")
    parser.add_argument("--write-gap-ms", type=float, default=None, help="see bench/fleet.py")
    parser.add_argument("--tracemalloc", action="store_true", help="memory growth by line")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the event loop")
    parser.add_argument(
        "--stall-stacks",
        type=Path,
        default=None,
        help="write what the loop ran when it stalled (steady state) to this file",
    )
    parser.add_argument(
        "--heap-report",
        type=Path,
        default=None,
        help="append what the engine's memory is made of to this file every 10 minutes",
    )
    parser.add_argument(
        "--api-load",
        action="store_true",
        help="serve the API on loopback and load it: 20 mixed reads/s and 5 live subscribers "
        "(bench/api_load.py, a separate process)",
    )
    args = parser.parse_args()
    check_run_arguments(parser, args)
    config = BenchConfig(
        hosts=args.hosts,
        interval=args.interval,
        seconds=args.minutes * 60,
        warmup=args.warmup,
        slow_share=args.slow_share,
        flap_share=args.flap_share,
        unreachable_share=args.unreachable_share,
        docker_share=args.docker_share,
        realistic_sleep=args.realistic_sleep,
        max_concurrent_polls=args.max_concurrent_polls,
        log_file=not args.no_log_file,
        profile=args.profile,
        on_time_tolerance=args.on_time_tolerance,
        write_gap_ms=args.write_gap_ms,
        tracemalloc=args.tracemalloc,
        stall_stacks=args.stall_stacks,
        heap_report=args.heap_report,
        api_load=args.api_load,
        engine=args.engine,
    )
    heap.limit_malloc_arenas()  # as `vpshealth` does at start
    report = asyncio.run(run_benchmark(config, args.workdir))
    print(format_report(report))
    if args.json is not None:
        data = asdict(report)
        data["targets"] = {k: {"met": v[0], "detail": v[1]} for k, v in report.targets().items()}
        args.json.write_text(json.dumps(data, indent=1, default=str))


if __name__ == "__main__":
    main()

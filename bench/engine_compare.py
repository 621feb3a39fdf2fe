"""The Python and the Go check engine side by side: ONE run starts ONE target (the simulated
fleet of ``bench/fleet.py``, or a real OpenSSH sshd on loopback) and runs the real service
against it with each engine in turn (``VPSHEALTH_ENGINE``), the same hosts, warm-up and
steady state, then prints one table and writes ``--json``.

    uv run python bench/engine_compare.py --hosts 1000 --interval 10 --minutes 5 \\
        [--warmup 30] [--engines python,go] [--target fleet|sshd] [--ramp 500,1000,2000] \\
        [--json out.json] [--workdir DIR] [--go-engine PATH]

Each engine's run is a process of its own (this script again, ``--one``), one after the
other: they never share the machine's cores, and each one's peak RSS is its own. The target
runs throughout; its CPU (the simulator, or sshd with every per-connection process and the
shells it starts) is measured from here at the moments the run's steady state begins and
ends, so that measuring it costs the engine nothing.

Figures, per engine, for the steady state: CPU per poll of the service process, of the Go
engine's process and their sum (the hybrid's real cost); peak RSS of each; start drift
(Python: the clock wrapper of ``bench/poll_throughput.py``; Go: started_at - due_at as the
engine reports each check); the longest stall (the service's event-loop lag, and the Go
engine's own ``max_tick_late_ms``); the share of polls on time; polls/s; the target's CPU.

How far toward a 2-core machine's limit: always an extrapolation from CPU per poll (polls/s
at which the service and the engine would fill 2 cores, the service's event loop at most one
of them; with and without the target on the same machine). ``--ramp N1,N2,...`` also
measures it: each engine at each host count, and the most polls/s with >= 99 % on time.

``--target sshd`` needs root: it starts ``/usr/sbin/sshd`` on a free loopback port (user
vhtest, created when missing, as in the project's TEST-INFRA recipe) with ``MaxStartups``
raised, and N host entries all pointing at it, each its own connection. Keep N modest
(50-200).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fleet import ports_below_ephemeral, raise_fd_limit
from bench.poll_throughput import (
    MAX_MINUTES,
    BenchConfig,
    Target,
    add_run_arguments,
    check_run_arguments,
    fleet_for,
    run_service_against,
    write_client_key,
)

from vpshealth.config import Settings, go_engine_path
from vpshealth.engine import heap

ENGINES = ("python", "go")
SSHD = Path("/usr/sbin/sshd")
SSHD_USER = "vhtest"
CORES = 2  # the machine the figures are for
ON_TIME_GOAL = 0.99


@dataclass
class CompareOptions:
    hosts: int = 100
    interval: int = 10
    seconds: float = 300.0
    warmup: float | None = None  # default: poll_throughput's (2 intervals + 5 s)
    engines: tuple[str, ...] = ENGINES
    target: str = "fleet"  # or "sshd"
    ramp: tuple[int, ...] = ()  # host counts, each run with each engine
    go_engine: Path | None = None  # default: the service's own lookup
    log_file: bool = True

    def config(self, engine: str, hosts: int) -> BenchConfig:
        return BenchConfig(
            hosts=hosts,
            interval=self.interval,
            seconds=self.seconds,
            warmup=self.warmup,
            log_file=self.log_file,
            engine=engine,
            go_engine_path=self.go_engine,
        )

    @property
    def runs(self) -> int:
        return len(self.engines) * (1 + len(self.ramp))


# --- the target's CPU, from outside ------------------------------------------------------


def go_engine_program() -> Path:
    """Where the service finds the Go engine here (VPSHEALTH_GO_ENGINE_PATH, else the
    checkout's engine-go/bin, built by scripts/build-go-engine)."""
    return go_engine_path(Settings())


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and everything under it, the ones it already reaped too."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            t = process.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


@dataclass
class PeerFigures:
    cpu_seconds: float
    core_share: float
    cpu_ms_per_poll: float


# --- one engine's run, in a process of its own -------------------------------------------


def _run_one(job: dict[str, Any]) -> None:
    """The ``--one`` process: the job (config, target, the client's private key) comes on
    standard input, the phases go to standard output, the report to ``job["report"]``."""
    config = BenchConfig(**{**job["config"], "go_engine_path": _path(job["config"])})
    target = Target(**job["target"])
    workdir = Path(job["workdir"])

    def tell(phase: str) -> None:
        print(phase, flush=True)

    heap.limit_malloc_arenas()  # as `vpshealth` does at start
    report = asyncio.run(run_service_against(config, workdir, target, job["key"], tell))
    Path(job["report"]).write_text(json.dumps(asdict(report), default=str))


def _path(config: dict[str, Any]) -> Path | None:
    value = config.get("go_engine_path")
    return Path(value) if value else None


@dataclass
class EngineRun:
    engine: str
    hosts: int
    report: dict[str, Any]
    peer: PeerFigures
    wall_seconds: float


def run_engine(
    options: CompareOptions,
    engine: str,
    target: Target,
    peer_pids: Sequence[int],
    private_key: str,
    workdir: Path,
) -> EngineRun:
    """One engine against ``target`` in a process of its own; the target's CPU is read here
    when that process says its steady state begins and ends."""
    rundir = workdir / f"{engine}-{len(target.hosts)}"
    for n in range(2, 100):  # a ramp step may repeat the main run's host count
        if not rundir.exists():
            break
        rundir = workdir / f"{engine}-{len(target.hosts)}-{n}"
    rundir.mkdir(parents=True)
    config = asdict(options.config(engine, len(target.hosts)))
    config["go_engine_path"] = str(options.go_engine) if options.go_engine else None
    report_path = rundir / "report.json"
    job: dict[str, Any] = {
        "config": config,
        "target": asdict(target),
        "key": private_key,
        "workdir": str(rundir),
        "report": str(report_path),
    }
    started = time.monotonic()
    marks: dict[str, tuple[float, float]] = {}
    with (rundir / "stderr.log").open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--one"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(json.dumps(job))
    proc.stdin.close()  # the key is read: nothing of it stays in a pipe or a file
    for line in proc.stdout:
        phase = line.strip()
        if phase in ("steady", "end"):
            marks[phase] = (time.time(), sum(tree_cpu_seconds(pid) for pid in peer_pids))
    proc.stdout.close()
    code = proc.wait()
    if code != 0:
        tail = (rundir / "stderr.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the {engine} engine's run exited with {code}:\n{tail}")
    report = json.loads(report_path.read_text())
    polls = report["steady"]["polls"]
    if "steady" in marks and "end" in marks:
        (t0, cpu0), (t1, cpu1) = marks["steady"], marks["end"]
        cpu = cpu1 - cpu0
        peer = PeerFigures(cpu, cpu / max(t1 - t0, 1e-9), 1000 * cpu / polls if polls else 0.0)
    else:
        peer = PeerFigures(float("nan"), float("nan"), float("nan"))
    return EngineRun(engine, len(target.hosts), report, peer, time.monotonic() - started)


# --- targets -------------------------------------------------------------------------------


@dataclass
class RunningTarget:
    target: Target
    pids: list[int]  # the processes answering (and those they start): their CPU is the target's
    describe: str
    log_tail: str = ""


@contextlib.contextmanager
def fleet_target(
    options: CompareOptions, hosts: int, workdir: Path, authorized_key: Path
) -> Iterator[RunningTarget]:
    base_port = ports_below_ephemeral(hosts) if hosts > 2000 else 0
    config = options.config("python", hosts)
    seconds = options.runs * (options.seconds + 120)
    fleet = fleet_for(config, workdir, authorized_key, seconds, base_port=base_port)
    fleet.start()
    running = RunningTarget(Target.of_fleet(fleet), fleet.pids, "simulated fleet")
    try:
        yield running
    finally:
        fleet.stop()
        running.log_tail = fleet.log_path.read_text(errors="replace")[-1500:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_sshd_user() -> None:
    try:
        pwd.getpwnam(SSHD_USER)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", SSHD_USER], check=True)
    subprocess.run(["usermod", "-p", "*", SSHD_USER], check=True)  # else "account is locked"


@contextlib.contextmanager
def sshd_target(hosts: int, authorized_key: Path) -> Iterator[RunningTarget]:
    """A real sshd on a loopback port, ``hosts`` entries all pointing at it."""
    if os.geteuid() != 0 or not SSHD.exists():
        raise SystemExit(f"--target sshd needs root and {SSHD} (Debian: openssh-server)")
    _ensure_sshd_user()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation directory
    folder = Path(tempfile.mkdtemp(prefix="vh-bench-sshd-"))
    folder.chmod(0o755)  # sshd reads the authorized keys as the user
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "hostkey")],
            check=True,
        )
        authorized = folder / f"authorized_keys.{SSHD_USER}"
        shutil.copyfile(authorized_key, authorized)
        authorized.chmod(0o644)
        port = _free_port()
        (folder / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'hostkey'}\n"
            f"PidFile {folder / 'sshd.pid'}\nAuthorizedKeysFile {folder}/authorized_keys.%u\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n"
            "UseDNS no\nMaxSessions 64\n"
            f"MaxStartups {hosts + 10}:30:{2 * hosts + 20}\nLoginGraceTime 60\n"
        )
        raise_fd_limit(8 * hosts + 256)
        with (folder / "sshd.log").open("wb") as log:
            proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(folder / "sshd_config")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        _wait_for_port(port, proc, folder / "sshd.log")
        host_key = " ".join((folder / "hostkey.pub").read_text().split()[:2])
        entries = [
            {"name": f"sshd-{i:04d}", "port": port, "host_key": host_key} for i in range(hosts)
        ]
        running = RunningTarget(
            Target(entries, SSHD_USER), [proc.pid], f"OpenSSH sshd on port {port}"
        )
        yield running
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"sshd did not listen on port {port} within 15 s")


# --- the comparison ------------------------------------------------------------------------


@dataclass
class Limits:
    """Polls/s at which the engine would fill the 2 cores: ``alone`` (the service and the
    engine on the machine, the service's event loop at most one core), and ``with_target``
    (the target's CPU per poll on the same cores, as in this run)."""

    alone_polls_per_second: float
    with_target_polls_per_second: float
    bound_by: str  # "event loop (1 core)" or "2 cores"

    def hosts_at(self, interval: float) -> int:
        value = self.alone_polls_per_second * interval
        return int(value) if math.isfinite(value) else 0


def limits_of(run: EngineRun) -> Limits:
    steady = run.report["steady"]
    service = steady["cpu_ms_per_poll"]
    total = steady["total_cpu_ms_per_poll"] or service
    if not (service > 0 and total > 0):
        return Limits(float("nan"), float("nan"), "-")
    by_loop = 1000 / service
    by_cores = CORES * 1000 / total
    peer = run.peer.cpu_ms_per_poll if math.isfinite(run.peer.cpu_ms_per_poll) else 0.0
    with_target = min(by_loop, CORES * 1000 / (total + peer))
    bound = "event loop (1 core)" if by_loop < by_cores else f"{CORES} cores"
    return Limits(min(by_loop, by_cores), with_target, bound)


@dataclass
class RampStep:
    engine: str
    hosts: int
    polls_per_second: float
    on_time_share: float
    cores_used: float  # the service's and the Go engine's
    target_cores: float
    loop_lag_max_ms: float


@dataclass
class CompareReport:
    options: dict[str, Any]
    target: str
    runs: list[EngineRun]
    limits: dict[str, Limits]
    ramp: list[RampStep] = field(default_factory=list)
    sustained: dict[str, float] = field(default_factory=dict)  # polls/s at >= 99 % on time
    target_log_tail: str = ""


def compare(options: CompareOptions, workdir: Path) -> CompareReport:
    """Start the target, run each engine against it in turn, stop it; the figures."""
    if not 0 < options.seconds <= MAX_MINUTES * 60:
        raise ValueError(f"seconds must be within {MAX_MINUTES:g} minutes")
    unknown = set(options.engines) - set(ENGINES)
    if unknown or not options.engines:
        raise ValueError(f"engines must be among {', '.join(ENGINES)}")
    workdir.mkdir(parents=True, exist_ok=True)
    pub_path, private_key = write_client_key(workdir)
    most = max((options.hosts, *options.ramp))
    if options.target == "sshd":
        starting = sshd_target(most, pub_path)
    else:
        starting = fleet_target(options, most, workdir, pub_path)
    with starting as running:
        runs = [
            run_engine(options, engine, _first(running.target, options.hosts), running.pids,
                       private_key, workdir)
            for engine in options.engines
        ]  # fmt: skip
        ramp: list[RampStep] = []
        for hosts in options.ramp:
            for engine in options.engines:
                step = run_engine(
                    options, engine, _first(running.target, hosts), running.pids, private_key,
                    workdir,
                )  # fmt: skip
                ramp.append(_ramp_step(step))
    report = CompareReport(
        options={k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        target=running.describe,
        runs=runs,
        limits={run.engine: limits_of(run) for run in runs},
        ramp=ramp,
        target_log_tail=running.log_tail,
    )
    for engine in options.engines:
        good = [
            s.polls_per_second
            for s in ramp
            if s.engine == engine and s.on_time_share >= ON_TIME_GOAL
        ]
        if ramp:
            report.sustained[engine] = max(good, default=0.0)
    return report


def _first(target: Target, hosts: int) -> Target:
    return Target(target.hosts[:hosts], target.user, target.peer_pids)


def _ramp_step(run: EngineRun) -> RampStep:
    steady = run.report["steady"]
    return RampStep(
        run.engine,
        run.hosts,
        steady["polls_per_second"],
        steady["on_time_share"],
        steady["engine_core_share"] + steady["child_core_share"],
        run.peer.core_share,
        steady["loop_lag_max_ms"],
    )


# --- the table -----------------------------------------------------------------------------

ROWS: list[tuple[str, str, Sequence[str]]] = [
    # label, format, path into the run's report ("peer.x": the target's figures)
    ("polls (steady state)", "{:.0f}", ("steady", "polls")),
    ("polls per second", "{:.1f}", ("steady", "polls_per_second")),
    ("polls on time", "{:.2%}", ("steady", "on_time_share")),
    ("cancelled polls (timeouts)", "{:.0f}", ("cancelled_polls",)),
    ("service CPU ms per poll", "{:.2f}", ("steady", "cpu_ms_per_poll")),
    ("Go engine CPU ms per poll", "{:.2f}", ("steady", "child_cpu_ms_per_poll")),
    ("  sum: CPU ms per poll", "{:.2f}", ("steady", "total_cpu_ms_per_poll")),
    ("service CPU, share of one core", "{:.1%}", ("steady", "engine_core_share")),
    ("Go engine CPU, share of one core", "{:.1%}", ("steady", "child_core_share")),
    ("service peak RSS MB", "{:.1f}", ("peak_rss_mb",)),
    ("Go engine peak RSS MB", "{:.1f}", ("child_peak_rss_mb",)),
    ("start drift p50 ms", "{:.1f}", ("steady", "drift_p50_ms")),
    ("start drift p99 ms", "{:.1f}", ("steady", "drift_p99_ms")),
    ("start drift max ms", "{:.1f}", ("steady", "drift_max_ms")),
    ("poll duration p50 ms", "{:.1f}", ("steady", "duration_p50_ms")),
    ("poll duration p99 ms", "{:.1f}", ("steady", "duration_p99_ms")),
    ("service event-loop lag p99 ms", "{:.1f}", ("steady", "loop_lag_p99_ms")),
    ("service event-loop lag max ms", "{:.1f}", ("steady", "loop_lag_max_ms")),
    ("Go engine longest tick late ms", "{:.1f}", ("steady", "go_tick_late_max_ms")),
    ("target CPU, share of one core", "{:.1%}", ("peer", "core_share")),
    ("target CPU ms per poll", "{:.2f}", ("peer", "cpu_ms_per_poll")),
    ("machine busy (all cores)", "{:.1%}", ("steady", "machine_busy_share")),
    ("other processes, cores busy", "{:.2f}", ("steady", "others_core_share")),
    ("hosts polled", "{:.0f}", ("hosts_polled",)),
    ("hosts with metrics", "{:.0f}", ("hosts_with_metrics",)),
]


def figure(run: EngineRun, path: Sequence[str]) -> Any:
    if path[0] == "peer":
        return getattr(run.peer, path[1])
    value: Any = run.report
    for key in path:
        value = value[key]
    return value


def _rss_sum(run: EngineRun) -> float:
    return float(run.report["peak_rss_mb"] + run.report["child_peak_rss_mb"])


def format_compare(report: CompareReport) -> str:
    o = report.options
    runs = report.runs
    width = 16
    head = f"{'':38s}" + "".join(f"{run.engine:>{width}s}" for run in runs)
    whole, steady = runs[0].report["whole"]["seconds"], runs[0].report["steady"]["seconds"]
    lines = [
        f"{report.target}: {o['hosts']} hosts every {o['interval']} s; each engine "
        f"{o['seconds']:.0f} s, warm-up {whole - steady:.0f} s",
        "",
        head,
    ]
    for label, fmt, path in ROWS:
        cells = []
        for run in runs:
            value = figure(run, path)
            not_go = run.engine != "go" and ("child" in path[-1] or "go_" in path[-1])
            cells.append("-" if not_go else _fmt(fmt, value))
        lines.append(f"{label:38s}" + "".join(f"{c:>{width}s}" for c in cells))
    lines.append(
        f"{'  sum: peak RSS MB':38s}" + "".join(f"{_rss_sum(r):>{width}.1f}" for r in runs)
    )
    lines += [f"states, {run.engine}: {_states(run)}" for run in runs]
    lines += ["", f"toward the limit of {CORES} cores (extrapolated from CPU per poll):"]
    interval = float(o["interval"])
    for run in runs:
        limit = report.limits[run.engine]
        lines.append(
            f"  {run.engine:6s} {limit.alone_polls_per_second:7.0f} polls/s alone "
            f"({limit.hosts_at(interval)} hosts every {interval:g} s; bound by {limit.bound_by}), "
            f"{limit.with_target_polls_per_second:.0f} polls/s with the target on the machine"
        )
    if report.ramp:
        lines += ["", "ramp (measured):", f"  {'engine':8s}{'hosts':>7s}{'polls/s':>9s}"
                  f"{'on time':>9s}{'cores':>7s}{'target':>8s}{'stall ms':>10s}"]  # fmt: skip
        for step in report.ramp:
            lines.append(
                f"  {step.engine:8s}{step.hosts:7d}{step.polls_per_second:9.1f}"
                f"{step.on_time_share:9.2%}{step.cores_used:7.2f}{step.target_cores:8.2f}"
                f"{step.loop_lag_max_ms:10.1f}"
            )
        for engine, pps in report.sustained.items():
            lines.append(f"  {engine}: {pps:.1f} polls/s sustained with >= 99 % on time")
    lines.append("")
    lines.append(
        "wall time per run: " + ", ".join(f"{r.engine} {r.wall_seconds:.0f} s" for r in runs)
    )
    return "\n".join(lines)


def _fmt(fmt: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return fmt.format(value)


def _states(run: EngineRun) -> str:
    return ",".join(f"{k}:{v}" for k, v in sorted(run.report["states"].items()))


def report_json(report: CompareReport) -> dict[str, Any]:
    data = asdict(report)
    data["limits"] = {
        engine: {**asdict(limit), "hosts_at_interval": limit.hosts_at(report.options["interval"])}
        for engine, limit in report.limits.items()
    }
    return data


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_run_arguments(parser)  # --minutes: each engine's run
    parser.add_argument("--engines", default=",".join(ENGINES), help="python,go (in this order)")
    parser.add_argument("--target", choices=("fleet", "sshd"), default="fleet")
    parser.add_argument("--ramp", default="", help="host counts to measure, e.g. 500,1000,2000")
    parser.add_argument("--go-engine", type=Path, default=None, help="VPSHEALTH_GO_ENGINE_PATH")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _run_one(json.loads(sys.stdin.read()))
        return
    check_run_arguments(parser, args)
    options = CompareOptions(
        hosts=args.hosts,
        interval=args.interval,
        seconds=args.minutes * 60,
        warmup=args.warmup,
        engines=tuple(e.strip() for e in args.engines.split(",") if e.strip()),
        target=args.target,
        ramp=tuple(int(n) for n in args.ramp.split(",") if n.strip()),
        go_engine=args.go_engine,
        log_file=not args.no_log_file,
    )
    if args.workdir is not None:
        report = compare(options, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="vh-compare-") as tmp:
            report = compare(options, Path(tmp))
    print(format_compare(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report_json(report), indent=1, default=str))


if __name__ == "__main__":
    main()

"""What one Prometheus scrape of ``GET /metrics`` costs at fleet size: a fresh database filled
with N hosts as the service leaves them (last state and metrics, 3 filesystems each, a share
with Docker containers, some open incidents), then repeated scrapes through the real route
(in-process ASGI client, bearer token), timed.

    uv run python bench/metrics_scrape.py --hosts 1000 [--docker-share 0.2] \\
        [--containers 12] [--scrapes 30] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from vpshealth.api.app import create_app
from vpshealth.api.context import ApiContext
from vpshealth.app import read_model_on
from vpshealth.clock import SystemClock
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    DockerReport,
)
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
    SystemInfo,
)
from vpshealth.engine.loop_lag import LoopLagMonitor
from vpshealth.engine.status import EngineStatus
from vpshealth.operations.api_tokens import ApiTokens
from vpshealth.store.api_token_repository import ApiTokenRepository
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.results_writer import ResultsWriter
from vpshealth.store.schema import incidents

GIB = 1024**3
STATES = (ContainerState.RUNNING,) * 8 + (ContainerState.EXITED, ContainerState.RESTARTING)


@dataclass
class Report:
    hosts: int
    docker_hosts: int
    containers: int
    fill_seconds: float
    scrapes: int
    scrape_ms_median: float
    scrape_ms_p95: float
    scrape_ms_max: float
    snapshot_ms_median: float
    exposition_bytes: int
    exposition_lines: int


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--docker-share", type=float, default=0.2)
    parser.add_argument("--containers", type=int, default=12, help="per host with Docker")
    parser.add_argument("--scrapes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def host_metrics(rng: random.Random) -> HostMetrics:
    disks = tuple(
        DiskUsage(mount, "ext4", size * GIB, int(size * GIB * rng.random()), size * GIB // 4)
        for mount, size in (("/", 80), ("/var/lib/docker", 200), ("/boot", 1))
    )
    return HostMetrics(
        cpu_percent=round(rng.uniform(1, 90), 2),
        cpu_count=rng.choice((2, 4, 8)),
        load=LoadAverage(rng.uniform(0, 4), rng.uniform(0, 4), rng.uniform(0, 4)),
        memory=MemoryUsage(8 * GIB, int(8 * GIB * rng.uniform(0.1, 0.9))),
        swap=SwapUsage(GIB, GIB // 2),
        uptime_seconds=rng.uniform(1e3, 1e7),
        disks=disks,
        network=(NetworkCounters("eth0", rng.randrange(10**12), rng.randrange(10**12)),),
    )


def docker_report(rng: random.Random, host: int, count: int, now: int) -> DockerReport:
    views = tuple(
        ContainerView(
            Container(
                id=f"{host:06d}{n:06d}" * 4,
                name=f"app{n}",
                image="ghcr.io/example/app:1",
                created=now - 86_400,
                state=rng.choice(STATES),
            ),
            ContainerMetrics(rng.uniform(0, 50), rng.randrange(10**9), 2 * GIB),
        )
        for n in range(count)
    )
    return DockerReport(views)


def fill(engine: Engine, args: argparse.Namespace) -> tuple[int, int]:
    """Hosts and their last results as the service stores them; (hosts with Docker,
    containers)."""
    rng = random.Random(args.seed)
    now = int(time.time())
    repo = HostRepository(engine)
    results: list[tuple[int, CheckResult]] = []
    docker_hosts = 0
    for i in range(args.hosts):
        name = f"vps{i:04d}"
        host_id = repo.add(Host(name=name, address=f"10.{i // 250}.{i % 250}.1"))
        if rng.random() < 0.01:
            result = CheckResult(name, now, HostState.UNREACHABLE, Problem.TIMEOUT, "timed out")
        else:
            docker = None
            if rng.random() < args.docker_share:
                docker_hosts += 1
                docker = docker_report(rng, i, args.containers, now)
            info = SystemInfo(name, "6.1.0-18-amd64", "Debian GNU/Linux 12 (bookworm)")
            result = CheckResult(
                name, now, HostState.OK, None, "All good", host_metrics(rng), info, 40, docker
            )
        results.append((host_id, result))
    ResultsWriter(engine, record_incidents=False).write(results)
    with engine.begin() as conn:
        for n, (host_id, _) in enumerate(results[:: max(1, args.hosts // 20)]):
            conn.execute(
                insert(incidents).values(
                    host_id=host_id,
                    kind="high_cpu",
                    subject=f"cpu-{n}",
                    container_id="",
                    container_name="",
                    severity=("critical", "warning")[n % 2],
                    opened_at=now - 600,
                    message="CPU above 90 %",
                )
            )
    return docker_hosts, docker_hosts * args.containers


def run(args: argparse.Namespace, folder: Path) -> Report:
    engine = open_database(folder / "bench.sqlite3")
    began = time.perf_counter()
    docker_hosts, containers = fill(engine, args)
    fill_seconds = time.perf_counter() - began
    clock = SystemClock()
    status = EngineStatus(running=True, started_at=clock.now(), last_result_at=clock.now())
    status.hosts = args.hosts
    for _ in range(args.hosts):
        status.poll_durations.observe(0.04)
    lag = LoopLagMonitor()
    lag.record(due=1.0, woke=1.002)
    context = ApiContext(
        read_model=read_model_on(engine),
        tokens=ApiTokens(ApiTokenRepository(engine), clock),
        engine=status,
        clock=clock,
        loop_lag=lag,
    )
    token = context.tokens.create("bench", read_only=True).token
    headers = {"Authorization": f"Bearer {token}"}
    scrape_ms, snapshot_ms, body = [], [], b""
    with TestClient(create_app(context)) as client:
        for _ in range(args.scrapes):
            t0 = time.perf_counter()
            answer = client.get("/metrics", headers=headers)
            scrape_ms.append((time.perf_counter() - t0) * 1000)
            answer.raise_for_status()
            body = answer.content
            t0 = time.perf_counter()
            context.read_model.metrics_snapshot()
            snapshot_ms.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    ordered = sorted(scrape_ms)
    return Report(
        hosts=args.hosts,
        docker_hosts=docker_hosts,
        containers=containers,
        fill_seconds=round(fill_seconds, 2),
        scrapes=args.scrapes,
        scrape_ms_median=round(statistics.median(scrape_ms), 1),
        scrape_ms_p95=round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        scrape_ms_max=round(ordered[-1], 1),
        snapshot_ms_median=round(statistics.median(snapshot_ms), 1),
        exposition_bytes=len(body),
        exposition_lines=body.count(b"\n"),
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vpshealth-metrics-bench-") as folder:
        report = run(args, Path(folder))
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        for key, value in asdict(report).items():
            print(f"{key:>20}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

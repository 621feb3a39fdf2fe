"""Sync catch-up benchmark: a desktop that was away for 8 hours catches an empty copy up with a
node of 50 hosts with 20 containers each, over the real API on loopback.

    uv run python bench/sync_catchup.py [--hosts 50] [--containers 20] [--hours 8] \\
        [--interval 15] [--verify] [--json out.json]

The node's database is written directly with the store's writers (no SSH): the hosts, their
status and containers, and for each host 13 metric series plus CPU % and memory per container
(the value models of ``bench/storage_bench.py``), one sample each every ``--interval``
seconds for ``--hours`` full hours plus the current hour up to now. After every simulated
hour the node's upkeep runs as the service does (``Compactor.compact``, ``Rollups.run``), so
the closed hours are compressed chunks and the current one raw rows (moved from
``staged_samples`` as the results writer does). The database is then
served by the real API (``create_app`` under uvicorn) in a process of its own, and
``sync.catch_up.catch_up`` fills an empty copy from it.

Reported: seconds of the catch-up, bytes on the wire (compressed bodies as received), pages,
the copy's file size, a second catch-up right after the first (what the follower runs when
the live stream rings, with its 5-minute margin), and the machine's load. The issue's
target: under 10 s and under 20 MB.
``--verify`` then compares the copy with the node's database row by row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.storage_bench import host_models  # noqa: E402

from vpshealth.app import Core, build_core  # noqa: E402
from vpshealth.clock import SystemClock  # noqa: E402
from vpshealth.config import Settings  # noqa: E402
from vpshealth.domain.containers import (  # noqa: E402
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerView,
)
from vpshealth.domain.hosts import Host  # noqa: E402
from vpshealth.engine.status import EngineStatus  # noqa: E402
from vpshealth.store.compaction import Compactor, hour_of  # noqa: E402
from vpshealth.store.database import open_database  # noqa: E402
from vpshealth.store.docker_repository import replace_containers  # noqa: E402
from vpshealth.store.results_writer import insert_checks  # noqa: E402
from vpshealth.store.rollups import Rollups  # noqa: E402
from vpshealth.store.schema import host_status, series  # noqa: E402
from vpshealth.store.staged_samples import insert as insert_staged  # noqa: E402
from vpshealth.store.staged_samples import move_staged  # noqa: E402
from vpshealth.sync.catch_up import CatchUpReport, catch_up  # noqa: E402

HOUR = 3600
MB = 1_000_000


@dataclass
class Report:
    hosts: int
    containers_per_host: int
    hours: int
    current_minutes: int
    interval: int
    series: int
    samples: int
    build_seconds: float
    node_file_bytes: int
    seconds: float
    bytes_on_wire: int
    state_pages: int
    history_pages: int
    copy_file_bytes: int
    again_seconds: float
    """A second catch-up right after the first: what the follower runs on each doorbell."""
    again_bytes: int
    load_average: tuple[float, float, float]
    cpus: int
    equal: bool | None = None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--hours", type=int, default=8)
    parser.add_argument("--interval", type=int, default=15)
    parser.add_argument(
        "--current-minutes",
        type=int,
        help="minutes of the current hour, still raw rows (default: the clock's); 59 is the "
        "most raw rows a node holds",
    )
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--verify", action="store_true", help="compare copy and node row by row")
    parser.add_argument("--json", help="also write the report as JSON to this file")
    return parser.parse_args(argv)


def build_node(home: Path, args: argparse.Namespace) -> tuple[int, int, int]:
    """The node's database; returns (series, samples written, minutes of raw rows)."""
    core = build_core(Settings(home=home))
    try:
        return _fill(core, args)
    finally:
        core.close()


def _fill(core: Core, args: argparse.Namespace) -> tuple[int, int, int]:
    engine = core.engine
    rng = random.Random(args.seed)
    end = int(time.time())
    if args.current_minutes is not None:
        end = hour_of(end) + args.current_minutes * 60
    start = hour_of(end) - args.hours * HOUR
    host_ids = [
        core.hosts.add(Host(name=f"sim-{i:04d}", address="192.0.2.1")) for i in range(args.hosts)
    ]
    models = []
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
        for host_id in host_ids:
            views = [_container(i, end) for i in range(args.containers)]
            replace_containers(conn, host_id, views, end)
            conn.execute(
                insert(host_status).values(
                    host_id=host_id, state="ok", message="All good", since=start, checked_at=end
                )
            )
    compactor, rollups = Compactor(engine), Rollups(engine)
    written = 0
    for hour in range(args.hours + 1):
        t0 = start + hour * HOUR
        seconds = HOUR if hour < args.hours else end - t0
        polls = max(1, seconds // args.interval)
        columns = [(series_id, model(polls)) for series_id, model in models]
        with engine.begin() as conn:
            for i in range(polls):
                ts = t0 + i * args.interval
                insert_staged(conn, [(sid, ts, values[i]) for sid, values in columns])
                insert_checks(conn, [(host_id, ts, "ok", None, "ok", 40) for host_id in host_ids])
        written += polls * len(models)
        if hour < args.hours:
            now = t0 + HOUR + 150  # the upkeep just after the hour, as the service runs it
            compactor.compact(now)
            rollups.run(now)
    move_staged(engine)  # as the results writer does every 2 minutes
    return len(models), written, (end - hour_of(end)) // 60


def _container(i: int, now: int) -> ContainerView:
    container = Container(
        id=f"{i:064x}", name=f"app-{i}", image="ghcr.io/example/app:1", created=now - 86_400,
        state=ContainerState.RUNNING, started_at=now - 86_400,
    )  # fmt: skip
    return ContainerView(container, ContainerMetrics(1.5, 200 * MB, None))


def serve(home: str, port: int) -> None:
    """The node's API (the real app on uvicorn), until terminated."""
    import uvicorn  # noqa: PLC0415

    from vpshealth.api.app import create_app  # noqa: PLC0415

    core = build_core(Settings(home=Path(home)))
    context = core.api_context(_running())
    uvicorn.run(create_app(context), host="127.0.0.1", port=port, log_level="warning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _catch_up(
    url: str, token: str, copy: Engine
) -> tuple[float, CatchUpReport, float, CatchUpReport]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        deadline = time.monotonic() + 60
        while True:
            try:
                await client.get("/api/v1/health")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        started = time.perf_counter()
        report = await catch_up(client, copy, SystemClock())
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = await catch_up(client, copy, SystemClock())
        return seconds, report, time.perf_counter() - started, again


def run(args: argparse.Namespace, folder: Path) -> Report:
    home = folder / "node"
    began = time.perf_counter()
    series_count, samples, current_minutes = build_node(home, args)
    build_seconds = time.perf_counter() - began
    core = build_core(Settings(home=home))
    token = core.api_context(_running()).tokens.create("bench", read_only=True).token
    core.close()
    node_file = home / "data" / "vpshealth.sqlite3"
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(str(home), port), daemon=True
    )
    server.start()
    copy_path = folder / "node-copy.sqlite3"
    copy = open_database(copy_path)
    try:
        url = f"http://127.0.0.1:{port}"
        seconds, caught, again_seconds, again = asyncio.run(_catch_up(url, token, copy))
    finally:
        server.terminate()
        server.join(10)
    with copy.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    equal = None
    if args.verify:
        from tests.sync_compare import differences  # noqa: PLC0415

        node_engine = open_database(node_file)
        try:
            found = differences(node_engine, copy)
        finally:
            node_engine.dispose()
        equal = not found
        if found:
            print("\n".join(found), file=sys.stderr)
    copy.dispose()
    return Report(
        hosts=args.hosts,
        containers_per_host=args.containers,
        hours=args.hours,
        current_minutes=current_minutes,
        interval=args.interval,
        series=series_count,
        samples=samples,
        build_seconds=round(build_seconds, 1),
        node_file_bytes=node_file.stat().st_size,
        seconds=round(seconds, 2),
        bytes_on_wire=caught.bytes_received,
        state_pages=caught.state_pages,
        history_pages=caught.history_pages,
        copy_file_bytes=copy_path.stat().st_size,
        again_seconds=round(again_seconds, 2),
        again_bytes=again.bytes_received,
        load_average=os.getloadavg(),
        cpus=os.cpu_count() or 0,
        equal=equal,
    )


def _running() -> EngineStatus:
    return EngineStatus(running=True, started_at=time.time(), poll_timeout=10)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        report = run(args, Path(folder))
    print(
        f"{report.hosts} hosts x {report.containers_per_host} containers, {report.hours} h at "
        f"{report.interval} s: {report.series} series, {report.samples:,} samples "
        f"(node file {report.node_file_bytes / MB:.1f} MB, built in {report.build_seconds} s)"
    )
    print(f"raw rows of the current hour: {report.current_minutes} minutes")
    print(
        f"catch-up of an empty copy: {report.seconds:.2f} s, {report.bytes_on_wire / MB:.2f} MB "
        f"on the wire ({report.state_pages} state + {report.history_pages} history pages), "
        f"copy {report.copy_file_bytes / MB:.1f} MB"
    )
    print(
        f"a catch-up right after it (the follower's): {report.again_seconds:.2f} s, "
        f"{report.again_bytes / MB:.2f} MB on the wire"
    )
    load = ", ".join(f"{x:.2f}" for x in report.load_average)
    print(f"machine: {report.cpus} CPUs, load average {load}")
    if report.equal is not None:
        print(f"copy equals node row by row: {report.equal}")
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    main()

"""`vpshealth check` and `vpshealth history`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from vpshealth.cli import nagios, output
from vpshealth.cli.context import CliContext
from vpshealth.domain.containers import ContainerState
from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.series import resolve_metric
from vpshealth.errors import EXIT_NOT_OK, EXIT_OK, InputError, VpsHealthError
from vpshealth.read_model import container_series, json_shapes
from vpshealth.store.history import DEFAULT_MAX_POINTS
from vpshealth.store.host_repository import HostRecord


def register(commands: argparse._SubParsersAction[Any]) -> None:
    check = commands.add_parser(
        "check",
        help="check servers now and print their state",
        description="Check the named servers (default: every enabled one) now. Results are "
        "stored like any scheduled check. Exit code 0 when every host is ok, 1 otherwise.",
    )
    check.add_argument("names", metavar="NAME", nargs="*", help="hosts to check")
    style = check.add_mutually_exclusive_group()
    style.add_argument("--json", action="store_true", help="print JSON")
    style.add_argument(
        "--nagios",
        action="store_true",
        help="run as a Nagios or Icinga plugin: one status line with performance data; exit "
        "0 ok, 1 warning, 2 critical (also unreachable), 3 unknown (e.g. no such host)",
    )
    check.set_defaults(handler=run_check)

    history = commands.add_parser(
        "history",
        help="print a metric's stored history",
        description="Print stored values of one metric. METRIC is a series name such as "
        "cpu.percent, memory.percent, load.1, disk.percent:/ or net.rx_bytes:eth0, or a short "
        "name: cpu, memory, swap, load, load5, load15, disk:/MOUNT, net.rx:IFACE, net.tx:IFACE. "
        "Short ranges show every sample; longer ones show the minimum, average and maximum of "
        "each minute, hour or longer step, so that at most --max-points rows are printed. "
        "With --container, METRIC is cpu or memory of that app or container.",
    )
    history.add_argument("name", metavar="NAME")
    history.add_argument("metric", metavar="METRIC")
    history.add_argument(
        "--container",
        metavar="APP",
        help="a container's history, continuous across deploys: the app as `containers` shows "
        "it with / between the parts (shop/production/web, plus /MEMBER for a stack's member), "
        "a container name, or the identity its series are stored under",
    )
    history.add_argument(
        "--since", default="24h", help="how far back: e.g. 30m, 6h, 7d (default 24h)"
    )
    history.add_argument(
        "--max-points",
        type=int,
        default=DEFAULT_MAX_POINTS,
        metavar="N",
        help=f"at most this many rows (default {DEFAULT_MAX_POINTS}, at least 2)",
    )
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(handler=show_history)


def run_check(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.nagios:
        return _run_nagios_check(ctx, args)
    records = _records_to_check(ctx, args)
    results = asyncio.run(ctx.core.check_once(records))
    addresses = {r.host.name: r.host.display_address for r in records}
    if args.json:
        output.print_json(
            {"hosts": [json_shapes.check_result_json(r, addresses[r.host_name]) for r in results]}
        )
    else:
        print(_results_table(results))
    return EXIT_OK if all(r.state is HostState.OK for r in results) else EXIT_NOT_OK


def _run_nagios_check(ctx: CliContext, args: argparse.Namespace) -> int:
    try:
        records = _records_to_check(ctx, args)
        results = asyncio.run(ctx.core.check_once(records))
        rules = {
            r.host_name: ctx.core.operations.rules.show(r.host_name).effective for r in results
        }
        report = nagios.nagios_report(results, rules)
    except VpsHealthError as exc:
        report = nagios.unknown(str(exc))
    print(report.line)
    return int(report.code)


def _records_to_check(ctx: CliContext, args: argparse.Namespace) -> list[HostRecord]:
    core = ctx.core
    link = core.operations.node.current()
    if link is not None:
        print(
            f"Note: this computer is linked to {link.name}, which runs the checks; this "
            "checks the servers of this computer's own list from here, and the results stay "
            "here (`vpshealth host list` shows the node's).",
            file=sys.stderr,
        )
    if args.names:
        records = [core.hosts.get(name) for name in dict.fromkeys(args.names)]
    else:
        records = [r for r in core.hosts.list() if r.host.enabled]
        if not records:
            raise InputError(
                "No enabled hosts to check. Add one with `vpshealth host add` or enable one "
                "with `vpshealth host edit NAME --enable`."
            )
    return records


def _results_table(results: list[CheckResult]) -> str:
    rows = []
    for r in results:
        m = r.metrics
        if m is None:
            cpu = mem = disk = load = "-"
        else:
            cpu = "-" if m.cpu_percent is None else f"{m.cpu_percent:.0f}%"
            mem = f"{m.memory.percent:.0f}%"
            worst = max(m.disks, key=lambda d: d.percent, default=None)
            disk = "-" if worst is None else f"{worst.percent:.0f}% {worst.mount}"
            load = f"{m.load.one:.2f}"
        rows.append([r.host_name, r.state.value, cpu, mem, disk, load, _containers(r), r.message])
    headers = ["NAME", "STATE", "CPU", "MEM", "DISK", "LOAD", "CONTAINERS", "MESSAGE"]
    return output.table(headers, rows)


def _containers(result: CheckResult) -> str:
    """Running of all, e.g. ``12/14``; ``-`` without Docker."""
    if result.docker is None or result.docker.containers is None:
        return "-"
    views = result.docker.containers
    running = sum(1 for v in views if v.container.state is ContainerState.RUNNING)
    return f"{running}/{len(views)}"


def show_history(ctx: CliContext, args: argparse.Namespace) -> int:
    reads = ctx.reads
    record = reads.hosts.get(args.name)
    since_seconds = output.parse_duration(args.since)
    if args.max_points < 2:
        raise InputError("--max-points must be at least 2")
    known = reads.history.metrics_of(record.id)
    if args.container is not None:
        metric = _container_metric(ctx, record.id, record.host.name, args, known)
    else:
        metric = resolve_metric(args.metric)
    if metric not in known:
        listing = ", ".join(known) if known else "none yet (run `vpshealth check` first)"
        raise InputError(f"{record.host.name} has no metric '{args.metric}'. Stored: {listing}")
    now = int(time.time())
    data = reads.history.series(record.id, metric, now - since_seconds, now, args.max_points)
    if args.json:
        output.print_json(json_shapes.series_json(record.host.name, metric, data))
        return EXIT_OK
    if not len(data):
        print(f"No values of {metric} for {record.host.name} in the last {args.since}.")
        return EXIT_OK
    times = [output.iso_time(ts) or "" for ts in data.timestamps]
    if data.bucket_seconds == 0:
        print(
            output.table(
                ["TIME (UTC)", metric],
                [[t, f"{v:g}"] for t, v in zip(times, data.values, strict=True)],
            )
        )
        return EXIT_OK
    print(f"{metric}: minimum, average and maximum of each {_step(data.bucket_seconds)}")
    rows = [
        [t, f"{lo:g}", f"{avg:.6g}", f"{hi:g}"]
        for t, lo, avg, hi in zip(times, data.minimum, data.average, data.maximum, strict=True)
    ]
    print(output.table(["FROM (UTC)", "MIN", "AVG", "MAX"], rows))
    return EXIT_OK


def _container_metric(
    ctx: CliContext, host_id: int, host: str, args: argparse.Namespace, known: list[str]
) -> str:
    found = container_series.look_up(
        ctx.reads.docker.containers_of(host_id), known, args.metric, args.container
    )
    if found.key is None:
        raise InputError(
            f"A container has no metric '{args.metric}': give cpu or memory "
            "(or container.cpu_percent, container.memory_bytes)"
        )
    if found.series is None:
        listing = found.listing or "none yet (run `vpshealth check` first)"
        raise InputError(
            f"{host} has no container history for '{args.container}'. Stored: {listing}"
        )
    return found.series


def _step(seconds: int) -> str:
    for unit, name in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % unit == 0:
            count = seconds // unit
            return name if count == 1 else f"{count} {name}s"
    return f"{seconds} seconds"

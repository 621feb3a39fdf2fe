"""`vpshealth containers` and `vpshealth events`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.domain.containers import ContainerState, ContainerView
from vpshealth.errors import EXIT_OK
from vpshealth.read_model import container_groups, json_shapes
from vpshealth.store.docker_repository import StoredContainer


def register(commands: argparse._SubParsersAction[Any]) -> None:
    containers = commands.add_parser(
        "containers",
        help="list a server's Docker containers, grouped by app",
        description="Containers as of the last check, grouped by Coolify project or compose "
        "project. Running, restarting and paused ones, and any with an open incident; --all "
        "adds the stopped ones.",
    )
    containers.add_argument("name", metavar="NAME")
    containers.add_argument("--all", action="store_true", help="include stopped containers")
    containers.add_argument("--json", action="store_true", help="print JSON")
    containers.set_defaults(handler=list_containers)

    events = commands.add_parser(
        "events",
        help="list recorded incidents and state changes",
        description="Container incidents (opened and resolved) and host state changes, oldest "
        "first.",
    )
    events.add_argument("name", metavar="NAME", nargs="?", help="only this server")
    events.add_argument("--since", default="24h", help="how far back, e.g. 30m, 6h, 7d")
    events.add_argument("--json", action="store_true", help="print JSON")
    events.set_defaults(handler=list_events)


def _uptime(view: ContainerView, now: float) -> str:
    c = view.container
    if c.state is ContainerState.RUNNING and c.started_at:
        return output.duration(now - c.started_at)
    if c.finished_at:
        return f"stopped {output.ago(c.finished_at, now)}"
    return "-"


def list_containers(ctx: CliContext, args: argparse.Namespace) -> int:
    reads = ctx.reads
    record = reads.hosts.get(args.name)
    stored = reads.docker.containers_of(record.id)
    troubled = {i.container_id for _, i in reads.docker.open_incidents(record.id)}
    shown = container_groups.shown(stored, troubled, show_all=args.all)
    if args.json:
        output.print_json(
            {
                "host": record.host.name,
                "seen_at": output.iso_time(max((s.seen_at for s in stored), default=None)),
                "containers": [json_shapes.container_json(s.view) for s in shown],
            }
        )
        return EXIT_OK
    if not stored:
        print(
            f"No containers known for {record.host.name}: it has no Docker, or it was not "
            "checked yet (`vpshealth check " + record.host.name + "`)."
        )
        return EXIT_OK
    print(_containers_text(shown, len(stored), args.all))
    return EXIT_OK


def _containers_text(shown: list[StoredContainer], total: int, show_all: bool) -> str:
    now = time.time()
    blocks = []
    for title, views in container_groups.by_app([s.view for s in shown]):
        rows = []
        for view in views:
            c, m = view.container, view.metrics
            memory = "-" if m.memory_bytes is None else output.human_bytes(m.memory_bytes)
            rows.append(
                [
                    c.name,
                    c.state.value
                    + (f" ({c.exit_code})" if c.state is ContainerState.EXITED else ""),
                    "-" if c.health.value == "none" else c.health.value,
                    str(c.restart_count),
                    "-" if m.cpu_percent is None else f"{m.cpu_percent:.1f}%",
                    memory,
                    _uptime(view, now),
                ]
            )
        headers = ["NAME", "STATE", "HEALTH", "RESTARTS", "CPU", "MEMORY", "UPTIME"]
        blocks.append(f"{title}\n" + output.table(headers, rows))
    hidden = total - len(shown)
    if hidden and not show_all:
        blocks.append(f"({hidden} stopped container{'s' if hidden > 1 else ''} hidden; --all)")
    return "\n\n".join(blocks)


def list_events(ctx: CliContext, args: argparse.Namespace) -> int:
    reads = ctx.reads
    record = reads.hosts.get(args.name) if args.name else None
    since = int(time.time()) - output.parse_duration(args.since)
    rows = reads.read_model.events(since, record.id if record else None)
    if args.json:
        output.print_json({"events": [json_shapes.event_json(row) for row in rows]})
        return EXIT_OK
    if not rows:
        print(f"Nothing recorded in the last {args.since}.")
        return EXIT_OK
    table_rows = []
    for row in rows:
        if row.kind == "state_change":
            what = f"{row.old_state or 'new'} -> {row.new_state}"
        else:
            what = ("opened " if row.kind == "incident_opened" else "resolved ") + (
                row.problem or ""
            )
        table_rows.append([output.iso_time(row.at) or "", row.host_name or "?", what, row.message])
    print(output.table(["TIME (UTC)", "HOST", "EVENT", "MESSAGE"], table_rows))
    return EXIT_OK

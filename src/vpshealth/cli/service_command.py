"""`vpshealth service`: the headless engine."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from vpshealth.cli.context import CliContext
from vpshealth.domain.health import HostState
from vpshealth.engine.lock import EngineLock
from vpshealth.engine.service import Service, check_once
from vpshealth.errors import EXIT_NOT_OK, EXIT_OK


def register(commands: argparse._SubParsersAction[Any]) -> None:
    service = commands.add_parser(
        "service",
        help="keep checking every enabled server until stopped",
        description="Run the checks in the foreground until Ctrl-C or SIGTERM, storing every "
        "result. Only one service runs at a time. State changes are logged to the terminal "
        "and the log file.",
    )
    service.add_argument(
        "--once",
        action="store_true",
        help="check every enabled server once, store the results and exit (0 all ok, 1 not)",
    )
    service.set_defaults(handler=run_service, console_info=True)


def run_service(ctx: CliContext, args: argparse.Namespace) -> int:
    core = ctx.core
    with EngineLock(ctx.paths.engine_lock):
        if args.once:
            records = [r for r in core.hosts.list() if r.host.enabled]
            results = asyncio.run(check_once(core, records))
            for result in results:
                print(f"{result.host_name}: {result.state.value} - {result.message}")
            return EXIT_OK if all(r.state is HostState.OK for r in results) else EXIT_NOT_OK
        asyncio.run(Service(core).run())
    return EXIT_OK

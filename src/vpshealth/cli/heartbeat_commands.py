"""`vpshealth service heartbeat set | show | off`: the node's dead man's switch, a
Healthchecks-style URL the running service pings every N minutes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vpshealth.app import heartbeat_operations
from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.domain.humanize import parse_duration
from vpshealth.errors import EXIT_NOT_OK, EXIT_OK, InputError
from vpshealth.operations.errors import NOTHING_SAVED, FieldError
from vpshealth.operations.heartbeat import DEFAULT_EVERY

EPILOG = """\
Examples:
  printf '%s\\n' 'https://hc-ping.com/YOUR-UUID' | vpshealth service heartbeat set --url-stdin
  vpshealth service heartbeat set https://hc-ping.com/YOUR-UUID --every 5m
  vpshealth service heartbeat show
  vpshealth service heartbeat off
"""


def register(actions: argparse._SubParsersAction[Any]) -> None:
    heartbeat = actions.add_parser(
        "heartbeat",
        help="ping a dead man's switch URL (Healthchecks.io and the like) while checks run",
        description="While the service runs its checks it pings this URL every N minutes, so "
        "that an outside service tells you when the node itself is down. The URL carries a "
        "secret: it is kept in the OS keyring (on a node, its secret store); only its masked "
        "form is shown. A running service picks a change up within its period.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    heartbeat.set_defaults(handler=show_heartbeat, console_info=False, log_kind="cli", json=False)
    sub = heartbeat.add_subparsers(dest="heartbeat_action", metavar="ACTION")
    put = sub.add_parser("set", help="ping this URL every N minutes (default 5m)")
    put.add_argument("url", nargs="?", help="the ping URL (better: --url-stdin)")
    put.add_argument(
        "--url-stdin", action="store_true", help="read the URL from the first line of stdin"
    )
    put.add_argument(
        "--every", default="5m", metavar="DURATION", help="10s to 24h, e.g. 5m (default), 1h"
    )
    put.add_argument("--json", action="store_true", help="print JSON")
    put.set_defaults(handler=set_heartbeat, console_info=False, log_kind="cli")
    show = sub.add_parser("show", help="the URL (masked) and the period")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_heartbeat, console_info=False, log_kind="cli")
    off = sub.add_parser("off", help="stop pinging and forget the URL")
    off.add_argument("--json", action="store_true", help="print JSON")
    off.set_defaults(handler=heartbeat_off, console_info=False, log_kind="cli")


def set_heartbeat(ctx: CliContext, args: argparse.Namespace) -> int:
    url = _read_url(args)
    try:
        every = parse_duration(args.every)
    except ValueError:
        raise FieldError("every", "give a period such as 5m, 90s or 1h", value=args.every) from None
    shown = heartbeat_operations(ctx.core).set(url, every or DEFAULT_EVERY)
    if args.json:
        output.print_json({"url": shown.masked_url, "every_seconds": shown.every})
        return EXIT_OK
    print(
        f"The service pings {shown.masked_url} every {output.duration(shown.every)} while its "
        "checks run (a running service picks this up within its period)."
    )
    return EXIT_OK


def show_heartbeat(ctx: CliContext, args: argparse.Namespace) -> int:
    shown = heartbeat_operations(ctx.core).show()
    if args.json:
        output.print_json(
            {"url": shown.masked_url, "every_seconds": shown.every} if shown else {"url": None}
        )
        return EXIT_OK if shown else EXIT_NOT_OK
    if shown is None:
        print("No heartbeat: set one with `vpshealth service heartbeat set --url-stdin`.")
        return EXIT_NOT_OK
    print(f"Heartbeat:  {shown.masked_url} every {output.duration(shown.every)}")
    return EXIT_OK


def heartbeat_off(ctx: CliContext, args: argparse.Namespace) -> int:
    was = heartbeat_operations(ctx.core).off()
    if args.json:
        output.print_json({"was_set": was})
    else:
        print("Heartbeat off." if was else "No heartbeat was set.")
    return EXIT_OK


def _read_url(args: argparse.Namespace) -> str:
    if args.url_stdin:
        if args.url is not None:
            raise InputError(
                "heartbeat: give the URL either as an argument or on stdin (--url-stdin), not "
                f"both. {NOTHING_SAVED}"
            )
        return sys.stdin.readline().strip()
    if args.url is None:
        raise InputError(
            f"heartbeat: give the URL, or --url-stdin to read it from stdin. {NOTHING_SAVED}"
        )
    return str(args.url)

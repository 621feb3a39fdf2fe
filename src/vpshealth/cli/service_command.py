"""`vpshealth service [--once] | service install | uninstall | status` and
`vpshealth autostart on | off | status`."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from vpshealth.app import Core
from vpshealth.cli import heartbeat_commands, output
from vpshealth.cli.context import CliContext
from vpshealth.domain.health import HostState
from vpshealth.domain.listen_address import ListenAddress, ListenAddressError, parse_listen_address
from vpshealth.engine.lock import EngineLock
from vpshealth.errors import EXIT_NOT_OK, EXIT_OK, InputError
from vpshealth.read_model import json_shapes
from vpshealth.startup.background_service import background_service_for_this_os
from vpshealth.startup.launch import desktop_command, passed_environment, service_command
from vpshealth.startup.login_item import login_item_for_this_os


def register(commands: argparse._SubParsersAction[Any]) -> None:
    service = commands.add_parser(
        "service",
        help="keep checking every enabled server until stopped; install it to run by itself",
        description="Without an action: run the checks in the foreground until Ctrl-C or "
        "SIGTERM, storing every result. Only one process runs the checks at a time. State "
        "changes and notifications are logged to the terminal and to service.log in the log "
        "folder.\n\n"
        "install: start it now and at every login (systemd user service on Linux, launchd "
        "agent on macOS, scheduled task on Windows); uninstall: stop and remove it; status: "
        "whether it is installed and running, and the last check (exit 0 running, 1 not).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    service.add_argument(
        "--once",
        action="store_true",
        help="check every enabled server once, store the results and exit (0 all ok, 1 not)",
    )
    service.add_argument(
        "--api",
        metavar="HOST:PORT",
        help="also serve the HTTP API there, e.g. 127.0.0.1:8765 (default: VPSHEALTH_API, "
        "else off); an address other machines can reach needs --tls-cert and --tls-key",
    )
    service.add_argument("--tls-cert", metavar="FILE", type=Path, help="the API's certificate")
    service.add_argument("--tls-key", metavar="FILE", type=Path, help="the API's private key")
    service.add_argument(
        "--json", action="store_true", help="with --once: print the results as JSON, as `check`"
    )
    service.set_defaults(handler=run_service, console_info=True, log_kind="service")
    actions = service.add_subparsers(dest="service_action", metavar="ACTION")
    actions.add_parser("install", help="run in the background now and at every login").set_defaults(
        handler=install_service, console_info=False, log_kind="cli"
    )
    actions.add_parser("uninstall", help="stop and remove the background service").set_defaults(
        handler=uninstall_service, console_info=False, log_kind="cli"
    )
    status = actions.add_parser("status", help="installed? running? last check?")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=service_status, console_info=False, log_kind="cli")
    heartbeat_commands.register(actions)

    autostart = commands.add_parser(
        "autostart",
        help="start the desktop app at login: on, off or status",
        description="Start the desktop app when you log in (XDG autostart on Linux, a login "
        "agent on macOS, the Run key on Windows).",
    )
    autostart.add_argument("action", choices=["on", "off", "status"])
    autostart.add_argument("--json", action="store_true", help="print JSON")
    autostart.set_defaults(handler=set_autostart)


def _api_address(ctx: CliContext, args: argparse.Namespace) -> ListenAddress | None:
    settings = ctx.settings
    text = args.api or settings.api
    cert = args.tls_cert or settings.api_tls_cert
    key = args.tls_key or settings.api_tls_key
    if text is None:
        if cert or key:
            raise InputError("--tls-cert and --tls-key are for the API: give --api HOST:PORT too.")
        return None
    try:
        return parse_listen_address(text, cert, key)
    except ListenAddressError as exc:
        raise InputError(f"--api: {exc}") from None


def run_service(ctx: CliContext, args: argparse.Namespace) -> int:
    api = _api_address(ctx, args)
    if api is not None and args.once:
        raise InputError("--api serves the running service; it cannot go with --once.")
    if args.json and not args.once:
        raise InputError("--json prints the results of one round: give --once too.")
    core = ctx.core
    _refuse_while_linked(core)
    if ctx.settings.secret_store == "file":  # noqa: S105 - the name of a store
        # a node: a missing or wrong passphrase stops it now, not host by host later
        core.secrets.require_usable()
    with EngineLock(ctx.paths.engine_lock):
        if args.once:
            records = [r for r in core.hosts.list() if r.host.enabled]
            results = asyncio.run(core.check_once(records))
            if args.json:
                addresses = {r.host.name: r.host.display_address for r in records}
                output.print_json(
                    {
                        "hosts": [
                            json_shapes.check_result_json(r, addresses[r.host_name])
                            for r in results
                        ]
                    }
                )
            else:
                for result in results:
                    print(f"{result.host_name}: {result.state.value} - {result.message}")
            return EXIT_OK if all(r.state is HostState.OK for r in results) else EXIT_NOT_OK
        asyncio.run(_serve(core, api))
    return EXIT_OK


async def _serve(core: Core, api: ListenAddress | None) -> None:
    await core.build_service(api=api).run()


def _background(ctx: CliContext) -> Any:
    return background_service_for_this_os(
        service_command(), passed_environment(), ctx.paths.log_dir / "service.err"
    )


def _refuse_while_linked(core: Core) -> None:
    """The node this computer is linked to runs the checks: never a second checker here."""
    link = core.operations.node.current()
    if link is not None:
        raise InputError(
            f"This computer is linked to {link.name}, which runs the checks; run `vpshealth "
            "node disconnect` first to run them on this computer."
        )


def install_service(ctx: CliContext, _args: argparse.Namespace) -> int:
    _refuse_while_linked(ctx.core)
    print(_background(ctx).install())
    return EXIT_OK


def uninstall_service(ctx: CliContext, _args: argparse.Namespace) -> int:
    print(_background(ctx).uninstall())
    return EXIT_OK


def service_status(ctx: CliContext, args: argparse.Namespace) -> int:
    status = _background(ctx).status()
    holder = EngineLock(ctx.paths.engine_lock).holder()
    last = ctx.core.hosts.last_checked_at()
    code = EXIT_OK if holder is not None else EXIT_NOT_OK
    if args.json:
        output.print_json(
            {
                "installed": status.installed,
                "definition": status.definition if status.installed else None,
                "service_running": status.running,
                "detail": status.detail,
                "checks_running": holder is not None,
                "pid": holder if holder is not None and holder > 0 else None,
                "last_check_at": output.iso_time(last),
            }
        )
        return code
    installed = f"installed ({status.definition})" if status.installed else "not installed"
    print(f"Background service: {installed}; {status.detail}")
    if holder is None:
        print("Checks:             not running (no process holds the engine lock)")
    else:
        pid = f"PID {holder}" if holder > 0 else "another process"
        print(f"Checks:             running in {pid}")
    when = f"{output.iso_time(last)} ({output.ago(last, time.time())})" if last else "never"
    print(f"Last check:         {when}")
    return code


def set_autostart(ctx: CliContext, args: argparse.Namespace) -> int:
    item = login_item_for_this_os(desktop_command(), passed_environment())
    if args.action == "on":
        item.enable()
    elif args.action == "off":
        item.disable()
    if args.json:
        output.print_json({"enabled": item.enabled(), "where": item.where})
    elif args.action == "on":
        print(f"The desktop app starts at login ({item.where}).")
    elif args.action == "off":
        print("The desktop app no longer starts at login.")
    else:
        print(f"Start at login: {'on' if item.enabled() else 'off'} ({item.where})")
    return EXIT_OK

"""`vpshealth` command line entry point."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from vpshealth import __version__
from vpshealth.cli import (
    alert_commands,
    api_commands,
    check_commands,
    completion,
    container_commands,
    db_commands,
    hetzner_commands,
    host_commands,
    node_commands,
    notify_commands,
    secrets_commands,
    service_command,
)
from vpshealth.cli.context import CliContext
from vpshealth.config import LogKind, Paths, Settings
from vpshealth.engine import heap
from vpshealth.errors import ConfigurationError, VpsHealthError
from vpshealth.logging_setup import configure_logging

log = logging.getLogger(__name__)

DESCRIPTION = """\
Watch Linux servers over SSH: CPU, memory, disks, load and network, with history kept in a
local SQLite file. Nothing is installed on the servers. This computer is watched out of the box
as the host 'localhost'.

Exit codes: 0 every checked host is ok; 1 at least one host is not ok (or a connection failed);
2 usage, input or configuration error."""

EPILOG = """\
Examples:
  vpshealth host add web1 --address 203.0.113.10 --key-file ~/.ssh/id_ed25519
  vpshealth check
  vpshealth history web1 cpu --since 6h
  vpshealth service            # keep checking until stopped (Ctrl-C)
  vpshealth                    # the desktop app (tray icon and dashboard)
"""


class _Parser(argparse.ArgumentParser):
    """Every command and sub-command accepts -v/--verbose, wherever it is typed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show debug messages on the terminal",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vpshealth",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vpshealth {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    host_commands.register(commands)
    check_commands.register(commands)
    container_commands.register(commands)
    alert_commands.register(commands)
    db_commands.register(commands)
    service_command.register(commands)
    notify_commands.register(commands)
    api_commands.register(commands)
    secrets_commands.register(commands)
    hetzner_commands.register(commands)
    node_commands.register(commands)
    completion.register(commands)
    return parser


DesktopApp = Callable[[Settings, Paths], int]


def main(argv: Sequence[str] | None = None, desktop_app: DesktopApp | None = None) -> int:
    """``desktop_app`` runs when no command is given (``vpshealth.launcher`` passes it);
    without one the help is printed."""
    os.umask(0o077)
    heap.limit_malloc_arenas()
    parser = build_parser()
    args = parser.parse_args(argv)
    standalone = getattr(args, "standalone", None)
    if standalone is not None:  # needs neither settings nor files: completion
        return int(standalone(parser, args))
    if args.command is None and (desktop_app is None or not has_display()):
        parser.print_help()
        if not has_display():
            print(
                "\nvpshealth: no display found (DISPLAY / WAYLAND_DISPLAY), so the desktop app "
                "cannot start; `vpshealth service` keeps checking without a window.",
                file=sys.stderr,
            )
        return 0
    try:
        settings = load_settings()
        paths = Paths.from_settings(settings)
        paths.ensure()
        log_kind: LogKind = "app" if args.command is None else getattr(args, "log_kind", "cli")
        configure_logging(
            paths.log_file(log_kind),
            verbose=getattr(args, "verbose", False),
            console_info=getattr(args, "console_info", args.command is None),
        )
        if desktop_app is not None and args.command is None:
            return desktop_app(settings, paths)
        with CliContext(settings, paths) as ctx:
            code: int = args.handler(ctx, args)
            return code
    except VpsHealthError as exc:
        print(f"vpshealth: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("vpshealth: interrupted", file=sys.stderr)
        return 130


def has_display() -> bool:
    """macOS and Windows always have one; on Linux and the BSDs an X11 or Wayland session (or an
    explicit Qt platform, e.g. ``QT_QPA_PLATFORM=offscreen``) is needed."""
    if sys.platform in ("darwin", "win32"):
        return True
    names = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    return any(os.environ.get(name) for name in names)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:
            raise ConfigurationError(f"invalid settings: {message}.") from None
        field = str(error["loc"][0]).upper()
        raise ConfigurationError(
            f"invalid VPSHEALTH_{field}: {message}. Fix or unset the variable."
        ) from None

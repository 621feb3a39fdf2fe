"""`vpshealth notify channel add | edit | list | test | remove | enable | disable`: alert channels,
each a named Apprise URL (ntfy, Telegram, Discord, Slack, Gotify, webhooks ...). The URL is
kept in the OS keyring (or the node's secret store); only its masked form is ever shown."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.domain.channels import ChannelRecord
from vpshealth.errors import EXIT_OK, InputError
from vpshealth.operations.errors import NOTHING_SAVED, FieldError

OPTION_NAMES = {
    "min_severity": "--min-severity",
    "batch_seconds": "--batch-seconds",
    "max_per_host_per_hour": "--max-per-host-per-hour",
    "url": "URL",
    "name": "NAME",
}

EXAMPLES = """examples:
  vpshealth notify channel add phone ntfys://ntfy.sh/my-servers-7f3a
  vpshealth notify channel add team 'tgram://BOT_TOKEN/CHAT_ID' --min-severity critical
  printf '%s\\n' 'discord://WEBHOOK_ID/WEBHOOK_TOKEN' | vpshealth notify channel add ops --url-stdin

Any Apprise URL works: https://github.com/caronc/apprise/wiki"""


def register(notify: argparse._SubParsersAction[Any]) -> None:
    channel = notify.add_parser(
        "channel",
        help="alert channels: ntfy, Telegram, Discord, Slack, Gotify, webhooks (Apprise URLs)",
        description="Alert channels, each a named Apprise URL with its own minimum severity. "
        "The URL (it carries a token or password) is kept in the OS keyring, never in the "
        "database; only its masked form is shown.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = channel.add_subparsers(dest="channel_command", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add",
        help="add a channel (the URL is checked, nothing is sent)",
        description="Add a channel. The URL is checked by Apprise without sending anything; "
        "a malformed URL or an unknown service is refused with exit 2 and nothing is saved. "
        "Use --url-stdin to keep the token out of your shell history.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("name", metavar="NAME", help="a name like phone or team-chat")
    add.add_argument("url", metavar="URL", nargs="?", help="the Apprise URL of the service")
    add.add_argument(
        "--url-stdin", action="store_true", help="read the URL from the first line of stdin"
    )
    add.add_argument(
        "--min-severity", default="warning", metavar="LEVEL", help="warning (default) or critical"
    )
    add.add_argument(
        "--batch-seconds",
        default="60",
        metavar="N",
        help="collect notifications for N seconds into one message (default 60, 0-3600)",
    )
    add.add_argument(
        "--max-per-host-per-hour",
        default="10",
        metavar="N",
        help="at most N notifications about one server an hour (default 10)",
    )
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    add.set_defaults(handler=add_channel)

    edit = sub.add_parser(
        "edit",
        help="change a channel's URL, minimum severity, batching or rate limit",
        description="Change what you name and keep the rest. A new URL is checked as by "
        "`add` and replaces the old one in the keyring; a bad value is refused with exit 2 "
        "and nothing is changed. A channel cannot be renamed: remove it and add it again.",
    )
    edit.add_argument("name", metavar="NAME")
    edit.add_argument("--url", metavar="URL", help="a new Apprise URL")
    edit.add_argument(
        "--url-stdin", action="store_true", help="read the new URL from the first line of stdin"
    )
    edit.add_argument("--min-severity", metavar="LEVEL", help="warning or critical")
    edit.add_argument("--batch-seconds", metavar="N", help="0-3600")
    edit.add_argument("--max-per-host-per-hour", metavar="N", help="at most N an hour per server")
    edit.add_argument("--json", action="store_true", help="print the channel as JSON")
    edit.set_defaults(handler=edit_channel)

    listing = sub.add_parser("list", help="the channels, their URLs masked")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_channels)

    test = sub.add_parser(
        "test",
        help="send a test message now",
        description="Send a test message right away (not through the outbox), also to a "
        "channel that is switched off. Exit 0 when the service took it, 1 when it did not.",
    )
    test.add_argument("name", metavar="NAME")
    test.set_defaults(handler=send_test)

    for action, helptext, handler in (
        ("remove", "remove a channel and its URL from the keyring", remove_channel),
        ("enable", "switch a channel on", enable_channel),
        ("disable", "switch a channel off (its alerts are not kept for later)", disable_channel),
    ):
        parser = sub.add_parser(action, help=helptext)
        parser.add_argument("name", metavar="NAME")
        parser.set_defaults(handler=handler)


def channel_json(record: ChannelRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "service": record.service,
        "url": record.masked_url,
        "min_severity": record.min_severity.value,
        "enabled": record.enabled,
        "batch_seconds": record.batch_seconds,
        "max_per_host_per_hour": record.max_per_host_per_hour,
        "created_at": output.iso_time(record.created_at),
    }


def channel_rows(records: list[ChannelRecord]) -> str:
    rows = [
        [
            r.name,
            r.service,
            r.masked_url,
            r.min_severity.value,
            "on" if r.enabled else "off",
        ]
        for r in records
    ]
    return output.table(["NAME", "SERVICE", "URL", "MIN SEVERITY", "STATE"], rows)


def _read_url(args: argparse.Namespace) -> str:
    if args.url_stdin:
        if args.url is not None:
            raise InputError(
                f"channel {args.name}: give the URL either as an argument or on stdin "
                f"(--url-stdin), not both. {NOTHING_SAVED}"
            )
        return sys.stdin.readline().strip()
    if args.url is None:
        raise InputError(
            f"channel {args.name}: give the URL, or --url-stdin to read it from stdin. "
            f"{NOTHING_SAVED}"
        )
    return str(args.url)


def _option_named(exc: FieldError) -> InputError:
    return InputError(exc.worded(OPTION_NAMES.get(exc.field, exc.field)))


def add_channel(ctx: CliContext, args: argparse.Namespace) -> int:
    url = _read_url(args)
    try:
        record = ctx.core.operations.channels.add(
            args.name,
            url,
            min_severity=args.min_severity,
            enabled=not args.disabled,
            batch_seconds=args.batch_seconds,
            max_per_host_per_hour=args.max_per_host_per_hour,
        )
    except FieldError as exc:
        raise _option_named(exc) from None
    state = "" if record.enabled else " (switched off)"
    print(
        f"Added channel {record.name}{state}: {record.service} at {record.masked_url}, "
        f"{record.min_severity.value} and worse. The URL is in {ctx.core.secrets.where}."
    )
    print(f"Try it: vpshealth notify channel test {record.name}")
    return EXIT_OK


def edit_channel(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.url_stdin and args.url is not None:
        raise InputError(
            f"channel {args.name}: give the new URL either with --url or on stdin "
            f"(--url-stdin), not both. {NOTHING_SAVED}"
        )
    changes = {
        "url": sys.stdin.readline().strip() if args.url_stdin else args.url,
        "min_severity": args.min_severity,
        "batch_seconds": args.batch_seconds,
        "max_per_host_per_hour": args.max_per_host_per_hour,
    }
    changes = {field: value for field, value in changes.items() if value is not None}
    if not changes:
        raise InputError(
            f"channel {args.name}: nothing to change; give --url, --min-severity, "
            "--batch-seconds or --max-per-host-per-hour."
        )
    try:
        record = ctx.core.operations.channels.change(args.name, changes)
    except FieldError as exc:
        raise _option_named(exc) from None
    if args.json:
        output.print_json(channel_json(record))
        return EXIT_OK
    print(
        f"Changed channel {record.name}: {record.service} at {record.masked_url}, "
        f"{record.min_severity.value} and worse, batches of {record.batch_seconds} s, at most "
        f"{record.max_per_host_per_hour} an hour per server."
    )
    return EXIT_OK


def list_channels(ctx: CliContext, args: argparse.Namespace) -> int:
    records = ctx.core.operations.channels.list()
    if args.json:
        output.print_json({"channels": [channel_json(r) for r in records]})
        return EXIT_OK
    if not records:
        print("No channels. Add one: vpshealth notify channel add NAME URL")
        return EXIT_OK
    print(channel_rows(records))
    return EXIT_OK


def send_test(ctx: CliContext, args: argparse.Namespace) -> int:
    sent = ctx.core.operations.channels.test(args.name)
    print(
        f"Sent a test message to channel {sent.channel.name} ({sent.channel.service} at "
        f"{sent.channel.masked_url}): {sent.title}"
    )
    return EXIT_OK


def remove_channel(ctx: CliContext, args: argparse.Namespace) -> int:
    record = ctx.core.operations.channels.remove(args.name)
    print(f"Removed channel {record.name} ({record.masked_url}) and its URL.")
    return EXIT_OK


def enable_channel(ctx: CliContext, args: argparse.Namespace) -> int:
    record = ctx.core.operations.channels.set_enabled(args.name, True)
    print(f"Channel {record.name} is on.")
    return EXIT_OK


def disable_channel(ctx: CliContext, args: argparse.Namespace) -> int:
    record = ctx.core.operations.channels.set_enabled(args.name, False)
    print(f"Channel {record.name} is off: its alerts are not sent, nor kept for later.")
    return EXIT_OK

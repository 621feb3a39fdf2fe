"""`vpshealth incidents | ack | snooze | maintenance | rules`."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.domain.alert_rules import RULE_SPECS, format_value
from vpshealth.errors import EXIT_OK, InputError
from vpshealth.operations.errors import FieldError, NotFoundError
from vpshealth.operations.incidents import AckOutcome, AckResult
from vpshealth.operations.rules import RuleConflictError
from vpshealth.operations.silences import WindowView
from vpshealth.read_model import json_shapes
from vpshealth.read_model.json_shapes import incident_state


def register(commands: argparse._SubParsersAction[Any]) -> None:
    incidents = commands.add_parser(
        "incidents",
        help="open and recent incidents",
        description="Incidents newest first: open ones and those resolved recently. Exit code "
        "1 when any is open. --show ID prints one incident with all its fields and, for a "
        "crashed, OOM-killed or looping container, its last log lines.",
    )
    incidents.add_argument("name", nargs="?", metavar="NAME", help="only this host")
    incidents.add_argument(
        "--show", type=int, metavar="ID", help="one incident in full, with its log lines"
    )
    incidents.add_argument("--open", action="store_true", help="only open incidents")
    incidents.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    incidents.add_argument("--json", action="store_true", help="print JSON")
    incidents.set_defaults(handler=list_incidents)

    ack = commands.add_parser(
        "ack",
        help="acknowledge incidents: no more reminders until they resolve",
        description="Acknowledge open incidents by their ID (see `vpshealth incidents`). An "
        "acknowledged incident sends no reminders; you still hear when it resolves.",
    )
    ack.add_argument("ids", nargs="+", type=int, metavar="ID")
    ack.add_argument("--json", action="store_true", help="print JSON")
    ack.set_defaults(handler=acknowledge)

    snooze = commands.add_parser(
        "snooze",
        help="no notifications about a host for a while",
        description="Silence a host's notifications for a while, e.g. `vpshealth snooze web1 "
        "2h`; `--all` for every host; DURATION `off` ends a snooze. Incidents are still "
        "recorded; what is still wrong when the snooze ends is notified then.",
    )
    snooze.add_argument("args", nargs="+", metavar="NAME DURATION")
    snooze.add_argument("--all", action="store_true", help="every host")
    snooze.add_argument("--reason", default="", help="a note shown in the list")
    snooze.add_argument("--json", action="store_true", help="print JSON")
    snooze.set_defaults(handler=snooze_host)

    maintenance = commands.add_parser(
        "maintenance",
        help="maintenance windows: planned quiet times, one-off or weekly",
        description="Without options, list the windows. During a window the host's incidents "
        "are recorded but notify nobody; what is still wrong afterwards is notified then. "
        "Times are this computer's local time.",
        epilog="Examples:\n"
        "  vpshealth maintenance web1 --start '2026-12-01 02:00' --duration 2h\n"
        "  vpshealth maintenance web1 --weekly 'sun 03:00' --duration 1h --reason backups\n"
        "  vpshealth maintenance --remove 4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    maintenance.add_argument("name", nargs="?", metavar="NAME", help="the host")
    maintenance.add_argument("--all", action="store_true", help="every host")
    maintenance.add_argument("--start", help="a one-off window from 'YYYY-MM-DD HH:MM' or 'now'")
    maintenance.add_argument("--weekly", help="a weekly window from 'DAY HH:MM', e.g. 'sun 03:00'")
    maintenance.add_argument("--duration", help="how long, e.g. 90m or 2h")
    maintenance.add_argument("--reason", default="", help="a note shown in the list")
    maintenance.add_argument("--remove", type=int, metavar="ID", help="delete a window or snooze")
    maintenance.add_argument("--json", action="store_true", help="print JSON")
    maintenance.set_defaults(handler=manage_maintenance)

    rules = commands.add_parser(
        "rules",
        help="alert rules: show or change thresholds, defaults or per host",
        description="Show the rules that apply to a host (or the defaults), or change them with "
        "--set RULE=VALUE (for NAME: that host only; without: the defaults for every host). "
        "--reset RULE goes back to the default.",
        epilog="Examples:\n"
        "  vpshealth rules\n"
        "  vpshealth rules --set cpu.warning=90 --set cpu.minutes=10\n"
        "  vpshealth rules db1 --set disk.warning=80 --set reminder.hours=1\n"
        "  vpshealth rules db1 --reset disk.warning",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rules.add_argument("name", nargs="?", metavar="NAME", help="the host (default: the defaults)")
    rules.add_argument("--set", action="append", default=[], metavar="RULE=VALUE")
    rules.add_argument("--reset", action="append", default=[], metavar="RULE")
    rules.add_argument("--json", action="store_true", help="print JSON")
    rules.set_defaults(handler=show_or_set_rules)


# --- incidents and ack ---


def list_incidents(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.show is not None:
        return show_incident(ctx, args.show, as_json=args.json)
    reads = ctx.reads
    host_id = reads.hosts.get(args.name).id if args.name else None
    if args.limit < 1:
        raise InputError("--limit must be 1 or more")
    records = reads.read_model.incidents(open_only=args.open, host_id=host_id, limit=args.limit)
    any_open = any(r.is_open for r in records)
    if args.json:
        output.print_json({"incidents": [json_shapes.incident_json(r) for r in records]})
        return 1 if any_open else EXIT_OK
    if not records:
        print("No open incidents." if args.open else "No incidents recorded.")
        return EXIT_OK
    now = time.time()
    rows = [
        [
            str(r.id),
            r.host_name,
            r.severity,
            incident_state(r),
            output.ago(r.opened_at, now),
            output.ago(r.resolved_at, now) if r.resolved_at else "-",
            r.message if r.is_open else f"{r.message} -> {r.resolution or 'resolved'}",
        ]
        for r in records
    ]
    print(output.table(["ID", "HOST", "SEVERITY", "STATE", "OPENED", "RESOLVED", "WHAT"], rows))
    return 1 if any_open else EXIT_OK


def show_incident(ctx: CliContext, incident_id: int, *, as_json: bool) -> int:
    record = ctx.reads.read_model.incident(incident_id)
    if record is None:
        raise NotFoundError(
            f"There is no incident {incident_id}; `vpshealth incidents` lists their IDs."
        )
    code = 1 if record.is_open else EXIT_OK
    if as_json:
        output.print_json(json_shapes.incident_json(record))
        return code
    now = time.time()

    def when(ts: int | None) -> str:
        if ts is None:
            return "-"
        return f"{datetime.fromtimestamp(ts):%Y-%m-%d %H:%M:%S} ({output.ago(ts, now)})"

    value = "-" if record.value is None else f"{record.value:g}"
    if record.threshold is not None:
        value += f" (threshold {record.threshold:g})"
    fields = [
        ("Host", f"{record.host_name} ({record.host_address})"),
        ("Rule", record.rule),
        ("Subject", record.subject),
        ("App", record.app or "-"),
        ("Severity", record.severity),
        ("State", incident_state(record)),
        ("Opened", when(record.opened_at)),
        ("Resolved", when(record.resolved_at)),
        ("Resolution", record.resolution or "-"),
        ("Acknowledged", when(record.acknowledged_at)),
        ("Last notified", when(record.last_notified_at)),
        ("Reminders", str(record.reminders_sent)),
        ("Value", value),
        ("What", record.message),
    ]
    print(f"Incident {record.id}")
    for label, text in fields:
        print(f"  {label + ':':<15}{text}")
    if record.log_lines:
        print("  Last log lines:")
        for line in record.log_lines.split("\n"):
            print(f"    {line}")
    return code


def acknowledge(ctx: CliContext, args: argparse.Namespace) -> int:
    done = ctx.core.operations.incidents.acknowledge(args.ids)
    if args.json:
        output.print_json({"incidents": [_ack_json(r) for r in done.results]})
    else:
        for result in done.results:
            record = result.record
            if result.outcome is AckOutcome.ALREADY_ACKNOWLEDGED:
                print(f"Incident {result.incident_id} was already acknowledged.")
            elif result.outcome is AckOutcome.ACKNOWLEDGED:
                assert record is not None
                print(f"Acknowledged {result.incident_id} ({record.host_name}: {record.message}).")
    error = done.error()
    if error is not None:
        raise error
    return EXIT_OK


def _ack_json(result: AckResult) -> dict[str, Any]:
    record = result.record
    return {
        "id": result.incident_id,
        "outcome": result.outcome.name.lower(),
        "host": record.host_name if record else None,
        "message": record.message if record else None,
    }


# --- snooze and maintenance ---


def snooze_host(ctx: CliContext, args: argparse.Namespace) -> int:
    expected = 1 if args.all else 2
    if len(args.args) != expected:
        usage = "vpshealth snooze --all DURATION" if args.all else "vpshealth snooze NAME DURATION"
        raise InputError(f"Use `{usage}`, e.g. 2h or 1d; DURATION 'off' ends the snooze.")
    silences = ctx.core.operations.silences
    name = None if args.all else args.args[0]
    who = "every host" if name is None else ctx.core.operations.hosts.get(name).host.name
    if args.args[-1].lower() == "off":
        ended = silences.end_snooze(name)
        if args.json:
            output.print_json(
                {"host": None if name is None else who, "snoozed_until": None, "ended": ended}
            )
            return EXIT_OK
        print(f"Snooze of {who} ended." if ended else f"{who} was not snoozed.")
        return EXIT_OK
    with _labelled({"duration": "DURATION"}):
        until = silences.snooze(name, args.args[-1], args.reason)
    if args.json:
        snoozed = output.iso_time(until)
        output.print_json(
            {"host": None if name is None else who, "snoozed_until": snoozed, "ended": 0}
        )
        return EXIT_OK
    shown = datetime.fromtimestamp(until).astimezone()
    print(f"No notifications about {who} until {shown:%Y-%m-%d %H:%M %Z}.")
    return EXIT_OK


@contextlib.contextmanager
def _labelled(labels: dict[str, str]) -> Iterator[None]:
    """Field errors of the operations, with the field named as the command names it."""
    try:
        yield
    except FieldError as exc:
        raise InputError(exc.worded(labels.get(exc.field, exc.field))) from None


_WINDOW_OPTIONS = {"duration": "--duration", "start": "--start", "weekly": "--weekly"}


def manage_maintenance(ctx: CliContext, args: argparse.Namespace) -> int:
    silences = ctx.core.operations.silences
    if args.remove is not None:
        silences.remove_window(args.remove)
        if args.json:
            output.print_json({"removed": args.remove})
            return EXIT_OK
        print(f"Removed window {args.remove}.")
        return EXIT_OK
    name = ctx.core.operations.hosts.get(args.name).host.name if args.name else None
    if args.start is None and args.weekly is None:
        return _list_windows(silences.windows(name), args.json)
    if args.start is not None and args.weekly is not None:
        raise InputError("Use either --start (one-off) or --weekly, not both.")
    if name is None and not args.all:
        raise InputError("Name the host, or use --all for a window that covers every host.")
    if args.duration is None:
        raise InputError("--duration is needed, e.g. --duration 2h")
    with _labelled(_WINDOW_OPTIONS):
        added = silences.add_window(
            name, duration=args.duration, start=args.start, weekly=args.weekly, reason=args.reason
        )
    if args.json:
        output.print_json(
            json_shapes.silence_json(
                added.silence, added.host_name, now=int(time.time()), when=added.when
            )
        )
        return EXIT_OK
    print(f"Maintenance window {added.silence.id} added: {added.when}.")
    return EXIT_OK


def _list_windows(windows: list[WindowView], as_json: bool) -> int:
    now = int(time.time())
    if as_json:
        output.print_json(
            {
                "windows": [
                    json_shapes.silence_json(w.silence, w.host_name, now=now, when=w.when)
                    for w in windows
                ]
            }
        )
        return EXIT_OK
    if not windows:
        print("No snoozes or maintenance windows.")
        return EXIT_OK
    rows = [
        [
            str(w.silence.id),
            w.host_name or ("(every host)" if w.silence.host_id is None else "?"),
            w.silence.kind.value,
            "now" if w.active else "later",
            w.when,
            w.silence.reason,
        ]
        for w in windows
    ]
    print(output.table(["ID", "HOST", "KIND", "ACTIVE", "WHEN", "REASON"], rows))
    return EXIT_OK


# --- rules ---


def show_or_set_rules(ctx: CliContext, args: argparse.Namespace) -> int:
    rules = ctx.core.operations.rules
    changes: dict[str, str | None] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--set {item!r}: use RULE=VALUE, e.g. --set cpu.warning=90")
        changes[name.strip()] = value
    for name in args.reset:
        changes[name] = None
    try:
        view = rules.change(args.name, changes) if changes else rules.show(args.name)
    except RuleConflictError as exc:
        raise InputError("; ".join(exc.problems) + ". Nothing was saved.") from None
    except FieldError as exc:
        option = "--reset" if changes.get(exc.field.removeprefix("rules.")) is None else "--set"
        raise InputError(f"{option}: {exc.problem}. Nothing was saved.") from None
    effective, own = view.effective, view.own
    if args.json:
        output.print_json(json_shapes.rules_json(view.host_name, effective, own))
        return EXIT_OK
    if changes:
        print(f"Saved {len(changes)} rule setting{'s' if len(changes) > 1 else ''}.")
    where = f"for {view.host_name}" if view.host_name else "by default (every host)"
    marker = "this host" if view.host_name else "changed"
    print(f"Rules {where}:")
    rows = [
        [
            name,
            format_value(name, effective[name])
            + ("" if spec.unit in ("%", "") else f" {spec.unit}"),
            marker if name in own else "",
            spec.help,
        ]
        for name, spec in RULE_SPECS.items()
    ]
    print(output.table(["RULE", "VALUE", "SET", "MEANING"], rows))
    return EXIT_OK

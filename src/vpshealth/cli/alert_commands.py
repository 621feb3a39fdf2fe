"""`vpshealth incidents | ack | snooze | maintenance | rules`."""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime
from typing import Any

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.domain.alert_rules import (
    RULE_SPECS,
    RuleSet,
    RuleValueError,
    format_value,
    parse_rule_value,
)
from vpshealth.domain.silences import WEEK_MINUTES, Silence, SilenceKind
from vpshealth.errors import EXIT_OK, InputError
from vpshealth.read_model import json_shapes
from vpshealth.read_model.json_shapes import incident_state
from vpshealth.read_model.silence_words import when_text
from vpshealth.store.silence_repository import SilenceRepository

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def register(commands: argparse._SubParsersAction[Any]) -> None:
    incidents = commands.add_parser(
        "incidents",
        help="open and recent incidents",
        description="Incidents newest first: open ones and those resolved recently. Exit code "
        "1 when any is open.",
    )
    incidents.add_argument("name", nargs="?", metavar="NAME", help="only this host")
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
    core = ctx.core
    host_id = core.hosts.get(args.name).id if args.name else None
    if args.limit < 1:
        raise InputError("--limit must be 1 or more")
    records = core.read_model.incidents(open_only=args.open, host_id=host_id, limit=args.limit)
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


def acknowledge(ctx: CliContext, args: argparse.Namespace) -> int:
    repo = ctx.core.incidents
    now = int(time.time())
    problems = []
    for incident_id in args.ids:
        record = repo.get(incident_id)
        if record is None:
            problems.append(f"there is no incident {incident_id}")
        elif not record.is_open:
            problems.append(f"incident {incident_id} is already resolved")
        elif record.acknowledged_at is not None:
            print(f"Incident {incident_id} was already acknowledged.")
        elif repo.acknowledge(incident_id, now):
            print(f"Acknowledged {incident_id} ({record.host_name}: {record.message}).")
    if problems:
        raise InputError(
            "; ".join(problems).capitalize() + ". `vpshealth incidents --open` lists them."
        )
    return EXIT_OK


# --- snooze and maintenance ---


def snooze_host(ctx: CliContext, args: argparse.Namespace) -> int:
    expected = 1 if args.all else 2
    if len(args.args) != expected:
        usage = "vpshealth snooze --all DURATION" if args.all else "vpshealth snooze NAME DURATION"
        raise InputError(f"Use `{usage}`, e.g. 2h or 1d; DURATION 'off' ends the snooze.")
    core = ctx.core
    record = None if args.all else core.hosts.get(args.args[0])
    host_id = record.id if record else None
    who = "every host" if record is None else record.host.name
    repo = core.silences
    now = int(time.time())
    if args.args[-1].lower() == "off":
        ended = repo.end_snoozes(host_id, now)
        print(f"Snooze of {who} ended." if ended else f"{who} was not snoozed.")
        return EXIT_OK
    seconds = _duration(args.args[-1], "DURATION")
    repo.snooze(host_id, now + seconds, now, args.reason)
    until = datetime.fromtimestamp(now + seconds).astimezone()
    print(f"No notifications about {who} until {until:%Y-%m-%d %H:%M %Z}.")
    return EXIT_OK


def _duration(text: str, field: str) -> int:
    try:
        seconds = output.parse_duration(text)
    except InputError:
        raise InputError(
            f"invalid {field} {text!r}: use a number with m, h, d or w, e.g. 90m or 2h"
        ) from None
    if seconds <= 0:
        raise InputError(f"{field} must be longer than 0")
    return seconds


def _local_time(text: str) -> int:
    if text.strip().lower() == "now":
        return int(time.time())
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(text.strip(), pattern).astimezone().timestamp())
        except ValueError:
            continue
    raise InputError(f"invalid --start {text!r}: use 'YYYY-MM-DD HH:MM' (local time) or 'now'")


def _weekly_minute(text: str) -> int:
    """'sun 03:00' in local time, as minutes after Monday 00:00 UTC."""
    parts = text.strip().lower().split()
    match = _CLOCK.match(parts[1]) if len(parts) == 2 else None
    if match is None or parts[0][:3] not in _DAYS:
        raise InputError(
            f"invalid --weekly {text!r}: use 'DAY HH:MM' (local time), e.g. 'sun 03:00'"
        )
    local_minute = _DAYS.index(parts[0][:3]) * 1440 + int(match[1]) * 60 + int(match[2])
    return (local_minute - _utc_offset_minutes()) % WEEK_MINUTES


def _utc_offset_minutes() -> int:
    offset = datetime.now().astimezone().utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def manage_maintenance(ctx: CliContext, args: argparse.Namespace) -> int:
    core = ctx.core
    repo = core.silences
    if args.remove is not None:
        if not repo.remove(args.remove):
            raise InputError(
                f"There is no window {args.remove}. `vpshealth maintenance` lists them."
            )
        print(f"Removed window {args.remove}.")
        return EXIT_OK
    record = core.hosts.get(args.name) if args.name else None
    if args.start is None and args.weekly is None:
        return _list_silences(ctx, repo, record.id if record else None, args.json)
    if args.start is not None and args.weekly is not None:
        raise InputError("Use either --start (one-off) or --weekly, not both.")
    if record is None and not args.all:
        raise InputError("Name the host, or use --all for a window that covers every host.")
    if args.duration is None:
        raise InputError("--duration is needed, e.g. --duration 2h")
    minutes = _duration(args.duration, "--duration") // 60
    if minutes < 1:
        raise InputError("--duration must be at least 1 minute")
    host_id = record.id if record else None
    now = int(time.time())
    if args.weekly is not None:
        if minutes >= WEEK_MINUTES:
            raise InputError("--duration of a weekly window must be shorter than a week")
        window_id = repo.add_weekly(
            host_id, SilenceKind.MAINTENANCE, _weekly_minute(args.weekly), minutes,
            now=now, reason=args.reason,
        )  # fmt: skip
    else:
        start = _local_time(args.start)
        window_id = repo.add_one_off(
            host_id, SilenceKind.MAINTENANCE, start, start + minutes * 60,
            now=now, reason=args.reason,
        )  # fmt: skip
    added = next(s for s in repo.current(now) if s.id == window_id)
    print(f"Maintenance window {window_id} added: {_when(added)}.")
    return EXIT_OK


def _when(silence: Silence) -> str:
    return when_text(silence)


def _list_silences(
    ctx: CliContext, repo: SilenceRepository, host_id: int | None, as_json: bool
) -> int:
    now = int(time.time())
    names = {r.id: r.host.name for r in ctx.core.hosts.list()}
    shown = [s for s in repo.current(now) if host_id is None or s.host_id in (None, host_id)]
    if as_json:
        output.print_json(
            {
                "windows": [
                    json_shapes.silence_json(
                        s,
                        names.get(s.host_id) if s.host_id is not None else None,
                        now=now,
                        when=_when(s),
                    )
                    for s in shown
                ]
            }
        )
        return EXIT_OK
    if not shown:
        print("No snoozes or maintenance windows.")
        return EXIT_OK
    rows = [
        [
            str(s.id),
            names.get(s.host_id, "?") if s.host_id is not None else "(every host)",
            s.kind.value,
            "now" if s.active(now) else "later",
            _when(s),
            s.reason,
        ]
        for s in shown
    ]
    print(output.table(["ID", "HOST", "KIND", "ACTIVE", "WHEN", "REASON"], rows))
    return EXIT_OK


# --- rules ---


def show_or_set_rules(ctx: CliContext, args: argparse.Namespace) -> int:
    core = ctx.core
    record = core.hosts.get(args.name) if args.name else None
    host_id = record.id if record else None
    repo = core.rules
    changes: dict[str, float | None] = {}
    try:
        for item in args.set:
            name, sep, value = item.partition("=")
            if not sep:
                raise InputError(f"--set {item!r}: use RULE=VALUE, e.g. --set cpu.warning=90")
            changes[name.strip()] = parse_rule_value(name.strip(), value)
    except RuleValueError as exc:
        raise InputError(f"--set: {exc}. Nothing was saved.") from None
    for name in args.reset:
        if name not in RULE_SPECS:
            raise InputError(f"--reset: unknown rule '{name}'. Nothing was saved.")
        changes[name] = None
    if changes:
        defaults, overrides = repo.stored()
        mine = dict(defaults if host_id is None else overrides.get(host_id, {}))
        for name, value in changes.items():
            if value is None:
                mine.pop(name, None)
            else:
                mine[name] = value
        base = core.rule_base
        merged = RuleSet(base, mine) if host_id is None else RuleSet(base, defaults, mine)
        if merged.problems():
            raise InputError("; ".join(merged.problems()) + ". Nothing was saved.")
        repo.update(host_id, changes, int(time.time()))
    effective = repo.rules_for(host_id, core.rule_base)
    own = repo.overrides_of(host_id)
    if args.json:
        output.print_json(
            json_shapes.rules_json(record.host.name if record else None, effective, own)
        )
        return EXIT_OK
    if changes:
        print(f"Saved {len(changes)} rule setting{'s' if len(changes) > 1 else ''}.")
    where = f"for {record.host.name}" if record else "by default (every host)"
    marker = "this host" if record else "changed"
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

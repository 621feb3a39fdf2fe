"""`vpshealth host ...`: add, list, show, edit, remove, trust."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.cli.host_input import add_host_options, options_named
from vpshealth.cli.host_keys import confirm_host_key, key_from_options
from vpshealth.collectors.ssh_keys import fingerprint_of_line
from vpshealth.domain.hosts import AuthMethod, Host, HostKind
from vpshealth.errors import EXIT_OK, InputError
from vpshealth.operations.errors import LocalHostFieldError, NothingToChangeError
from vpshealth.read_model import json_shapes


def register(commands: argparse._SubParsersAction[Any]) -> None:
    host = commands.add_parser("host", help="add, list, show, edit and remove monitored servers")
    sub = host.add_subparsers(dest="host_command", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add",
        help="register a server (its host key is confirmed on first use)",
        description="Register a server. The server's host key is shown and must be confirmed; "
        "the login key goes into the OS keyring, never into a file.",
    )
    add.add_argument("name", metavar="NAME", help="a short name, e.g. web1")
    add_host_options(add, for_edit=False)
    add.add_argument("--json", action="store_true", help="print JSON")
    add.set_defaults(handler=add_host)

    lst = sub.add_parser("list", help="list servers with their last state")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=list_hosts)

    show = sub.add_parser("show", help="show one server's settings and latest metrics")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_host)

    edit = sub.add_parser("edit", help="change a server's settings or login key")
    edit.add_argument("name", metavar="NAME")
    add_host_options(edit, for_edit=True)
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="enabled", action="store_const", const=True)
    state.add_argument("--disable", dest="enabled", action="store_const", const=False)
    edit.add_argument("--json", action="store_true", help="print JSON")
    edit.set_defaults(handler=edit_host)

    remove = sub.add_parser("remove", help="forget a server and delete its key from the keyring")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--json", action="store_true", help="print JSON")
    remove.set_defaults(handler=remove_host)

    trust = sub.add_parser(
        "trust",
        help="re-confirm a server's host key after a legitimate rebuild",
        description="Show the trusted and the current host key fingerprints, and trust the "
        "current one after confirmation.",
    )
    trust.add_argument("name", metavar="NAME")
    trust_how = trust.add_mutually_exclusive_group()
    trust_how.add_argument(
        "--yes",
        "--trust-host-key",
        dest="trust",
        action="store_true",
        help="trust the current key without asking",
    )
    trust_how.add_argument(
        "--host-key-fingerprint",
        metavar="SHA256:...",
        help="trust the current key only if it has this fingerprint",
    )
    trust.add_argument("--json", action="store_true", help="print JSON")
    trust.set_defaults(handler=trust_host)


def _fields_from_args(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for option, field in (
        ("address", "address"),
        ("port", "port"),
        ("user", "user"),
        ("interval", "interval_seconds"),
        ("docker_socket", "docker_socket"),
    ):
        value = getattr(args, option)
        if value is not None:
            fields[field] = value
    if args.tags is not None:
        fields["tags"] = tuple(args.tags)
    return fields


def add_host(ctx: CliContext, args: argparse.Namespace) -> int:
    fields = {"name": args.name, **_fields_from_args(args)}
    hosts = ctx.core.operations.hosts
    with options_named():
        draft = hosts.draft_new(fields)
    key = key_from_options(
        args.key_file, args.generate_key, args.agent, draft.name, ctx.settings.key_passphrase
    )
    assert key is not None
    hosts.check_key_store(key)
    host_key = confirm_host_key(
        hosts,
        draft.name,
        draft.address,
        draft.port,
        trust=args.trust_host_key,
        expected_fingerprint_text=args.host_key_fingerprint,
    )
    record = hosts.add(fields, key, host_key)
    host = record.host
    public_line = hosts.public_line_for(host.name, key)
    first_check = hosts.checks_here and not key.generated
    if args.json:
        result = asyncio.run(ctx.core.check_once([record]))[0] if first_check else None
        output.print_json(
            {
                "host": json_shapes.host_json(hosts.get(host.name)),
                "public_key": public_line,
                "first_check": None
                if result is None
                else json_shapes.check_result_json(result, host.display_address),
            }
        )
        return EXIT_OK
    print(f"Added {host.name} ({host.display_address}), checked every {host.interval_seconds} s.")
    if public_line is not None:
        _print_generated_key(host, public_line, here=hosts.checks_here)
        return EXIT_OK
    if not first_check:
        print("The node checks it from now on; its key is in the node's secret store.")
        return EXIT_OK
    result = asyncio.run(ctx.core.check_once([record]))[0]
    if result.metrics is not None:
        print(f"First check: {result.state.value} - {result.message}")
    else:
        print(f"First check failed: {result.message}")
    return EXIT_OK


def _print_generated_key(host: Host, public_line: str, *, here: bool = True) -> None:
    home = "/root" if host.user == "root" else f"~{host.user}"
    print(
        f"\nA new ed25519 key was created and stored in {_key_store(here)}. Append this line to "
        f"{home}/.ssh/authorized_keys on {host.address}:\n\n{public_line}\n\n"
        f"Then run `vpshealth check {host.name}`."
    )


def _key_store(here: bool) -> str:
    return "the OS keyring" if here else "the node's secret store"


def list_hosts(ctx: CliContext, args: argparse.Namespace) -> int:
    records = ctx.reads.hosts.list()
    if args.json:
        output.print_json({"hosts": [json_shapes.host_json(r) for r in records]})
        return EXIT_OK
    rows = []
    for r in records:
        state = r.status.state.value if r.status else "unknown"
        rows.append(
            [
                r.host.name,
                r.host.display_address,
                state if r.host.enabled else "disabled",
                output.ago(r.status.checked_at if r.status else None),
                ",".join(r.host.tags),
                r.status.message if r.status else "Not checked yet",
            ]
        )
    print(output.table(["NAME", "ADDRESS", "STATE", "CHECKED", "TAGS", "MESSAGE"], rows))
    return EXIT_OK


def show_host(ctx: CliContext, args: argparse.Namespace) -> int:
    record = ctx.reads.hosts.get(args.name)
    data = json_shapes.host_json(record)
    if args.json:
        output.print_json(data)
        return EXIT_OK
    host = record.host
    lines = [
        f"Name:        {host.name}",
        f"Address:     {host.display_address}",
    ]
    if host.kind is HostKind.SSH:
        lines += [
            f"User:        {host.user}",
            f"Login:       {_auth_text(host)}",
            f"Host key:    {data['host_key_fingerprint'] or 'not trusted yet'}",
        ]
    lines += [
        f"Interval:    {host.interval_seconds} s",
        *([f"Docker:      {host.docker_socket}"] if host.kind is HostKind.SSH else []),
        f"Enabled:     {'yes' if host.enabled else 'no'}",
        f"Tags:        {', '.join(host.tags) or '-'}",
    ]
    if record.system_info:
        info = record.system_info
        lines.append(f"System:      {info.hostname}, {info.os_name}, kernel {info.kernel}")
    lines.append(f"State:       {data['state']} - {data['message']}")
    status = record.status
    if status:
        lines.append(
            f"Since:       {output.ago(status.since)}; checked {output.ago(status.checked_at)}"
        )
    if status and status.metrics:
        m = status.metrics
        cpu = "-" if m.cpu_percent is None else f"{m.cpu_percent:.1f}%"
        lines += [
            f"CPU:         {cpu} of {m.cpu_count} CPUs, "
            f"load {m.load.one} {m.load.five} {m.load.fifteen}",
            f"Memory:      {output.human_bytes(m.memory.used_bytes)} of "
            f"{output.human_bytes(m.memory.total_bytes)} ({m.memory.percent:.0f}%)",
            f"Uptime:      {output.duration(m.uptime_seconds)}",
        ]
        for disk in m.disks:
            lines.append(
                f"Disk {disk.mount}: {output.human_bytes(disk.used_bytes)} of "
                f"{output.human_bytes(disk.total_bytes)} ({disk.percent:.0f}%, {disk.fstype})"
            )
    print("\n".join(lines))
    return EXIT_OK


def _auth_text(host: Host) -> str:
    if host.auth is AuthMethod.AGENT:
        return "ssh-agent"
    if host.auth is AuthMethod.KEY:
        return "private key in the OS keyring"
    return "none"


def edit_host(ctx: CliContext, args: argparse.Namespace) -> int:
    hosts = ctx.core.operations.hosts
    fields = _fields_from_args(args)
    if args.enabled is not None:
        fields["enabled"] = args.enabled
    wants_key = bool(args.key_file or args.generate_key or args.agent)
    wants_trust = bool(args.trust_host_key or args.host_key_fingerprint)
    try:
        with options_named():
            current, edited = hosts.draft_edit(
                args.name, fields, new_key=wants_key, new_host_key=wants_trust
            )
    except LocalHostFieldError:
        raise InputError(
            f"{args.name} is this computer, read directly: only --interval, --tag, "
            "--enable and --disable apply (its Docker socket follows DOCKER_HOST). "
            "Nothing was saved."
        ) from None
    except NothingToChangeError:
        raise InputError("Nothing to change: give at least one option (see --help).") from None
    key = key_from_options(
        args.key_file, args.generate_key, args.agent, current.name, ctx.settings.key_passphrase
    )
    hosts.check_key_store(key)
    host_key = None
    if wants_trust:
        host_key = confirm_host_key(
            hosts,
            edited.name,
            edited.address,
            edited.port,
            trust=args.trust_host_key,
            expected_fingerprint_text=args.host_key_fingerprint,
        )
    with options_named():
        edited = hosts.edit(current.name, fields, key, host_key)
    if args.json:
        output.print_json(
            {
                "host": json_shapes.host_json(hosts.get(edited.name)),
                "public_key": None if key is None else hosts.public_line_for(edited.name, key),
            }
        )
        return EXIT_OK
    print(f"Updated {edited.name}.")
    public_line = None if key is None else hosts.public_line_for(edited.name, key)
    if public_line is not None:
        _print_generated_key(edited, public_line, here=hosts.checks_here)
    return EXIT_OK


def remove_host(ctx: CliContext, args: argparse.Namespace) -> int:
    hosts = ctx.core.operations.hosts
    host = hosts.remove(args.name)
    if args.json:
        output.print_json({"removed": host.name, "key_deleted": bool(host.key_ref)})
        return EXIT_OK
    print(
        f"Removed {host.name} and its history"
        + (f"; its key was deleted from {_key_store(hosts.checks_here)}." if host.key_ref else ".")
    )
    return EXIT_OK


def trust_host(ctx: CliContext, args: argparse.Namespace) -> int:
    hosts = ctx.core.operations.hosts
    host = hosts.trust_target(args.name)
    line = confirm_host_key(
        hosts,
        host.name,
        host.address,
        host.port,
        trust=args.trust,
        expected_fingerprint_text=args.host_key_fingerprint,
        pinned=host.host_key,
    )
    changed = hosts.trust(host.name, line)
    if args.json:
        output.print_json(
            {
                "name": host.name,
                "changed": changed,
                "host_key_fingerprint": fingerprint_of_line(line),
            }
        )
        return EXIT_OK
    if not changed:
        print(f"The host key of {host.name} has not changed; nothing to do.")
        return EXIT_OK
    print(f"{host.name} now trusts host key {fingerprint_of_line(line)}.")
    return EXIT_OK

"""`vpshealth hetzner add|list|remove|import`: Hetzner Cloud projects and their servers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.cli.host_input import options_named
from vpshealth.cli.host_keys import key_from_options
from vpshealth.errors import EXIT_OK, InputError
from vpshealth.operations.hetzner import ImportedServer, ImportReport
from vpshealth.operations.login_keys import generated_key


def register(commands: argparse._SubParsersAction[Any]) -> None:
    hetzner = commands.add_parser(
        "hetzner",
        help="connect Hetzner Cloud projects and import their servers",
        description="Connect a Hetzner Cloud project with a read-only API token (kept in the "
        "OS keyring), import its servers as hosts, and let failed checks say what Hetzner "
        "knows: powered off, locked, rescue mode, being rebuilt or migrated, deleted.",
    )
    sub = hetzner.add_subparsers(dest="hetzner_command", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add",
        help="connect a project with its read-only API token",
        description="Connect a Hetzner Cloud project. Create a read-only API token in the "
        "Cloud Console (the project's Security > API tokens) and pipe it in: "
        "`vpshealth hetzner add web --token-stdin < token.txt`. The token is checked with one "
        "request and kept in the OS keyring, never in the database.",
    )
    add.add_argument("project", metavar="PROJECT", help="a short name for the project, e.g. web")
    add.add_argument(
        "--token-stdin", action="store_true", required=True,
        help="read the API token from stdin (one line)",
    )  # fmt: skip
    add.add_argument(
        "--api-endpoint", metavar="URL",
        help="another API address, for tests or an HTTP proxy in front of the API "
        "(default https://api.hetzner.cloud/v1)",
    )  # fmt: skip
    add.set_defaults(handler=add_project)

    lst = sub.add_parser("list", help="list the connected projects")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=list_projects)

    remove = sub.add_parser(
        "remove",
        help="disconnect a project and delete its token (its hosts stay)",
    )
    remove.add_argument("project", metavar="PROJECT")
    remove.set_defaults(handler=remove_project)

    imp = sub.add_parser(
        "import",
        help="create or update a host for each server of a project",
        description="Create a host for each server (keyed by its Hetzner server id, so "
        "importing again updates address and tags and never duplicates a host). The SSH "
        "address is the public IPv4 address, else the server's IPv6 ::1. Labels become tags "
        "(key=value as key:value). Servers gone from the project are reported, not removed. "
        "New hosts log in with one key: generated unless --key-file or --agent is given.",
    )
    imp.add_argument("project", metavar="PROJECT", nargs="?", help="default: every project")
    imp.add_argument(
        "--label-selector", metavar="SELECTOR",
        help="only the servers Hetzner selects, e.g. 'env=prod' or 'role in (web,db)'",
    )  # fmt: skip
    key = imp.add_mutually_exclusive_group()
    key.add_argument(
        "--generate-key", action="store_true",
        help="create one new ed25519 key for the new hosts (the default)",
    )  # fmt: skip
    key.add_argument("--key-file", metavar="PATH", help="log in with this private key")
    key.add_argument("--agent", action="store_true", help="log in with the running ssh-agent")
    imp.add_argument("--user", default="root", help="user to log in as (default root)")
    imp.add_argument("--port", type=int, default=22, help="SSH port of the new hosts (default 22)")
    imp.add_argument(
        "--trust-host-keys", action="store_true",
        help="read each new server's host key now and trust it (trust on first use); without "
        "it, confirm each with `vpshealth host trust NAME`",
    )  # fmt: skip
    imp.add_argument("--json", action="store_true", help="print JSON")
    imp.set_defaults(handler=import_servers)


def add_project(ctx: CliContext, args: argparse.Namespace) -> int:
    endpoint = args.api_endpoint
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise InputError(
            f"invalid --api-endpoint {endpoint!r}: give an http:// or https:// URL. "
            "Nothing was saved."
        )
    token = sys.stdin.readline().strip()
    count = ctx.core.operations.hetzner.add_project(args.project, token, endpoint)
    print(
        f"Connected Hetzner Cloud project {args.project} ({count} servers); its token is in "
        f"{ctx.core.secrets.where}. Import them with `vpshealth hetzner import {args.project}`."
    )
    return EXIT_OK


def list_projects(ctx: CliContext, args: argparse.Namespace) -> int:
    projects = ctx.core.operations.hetzner.projects()
    if args.json:
        output.print_json(
            {
                "projects": [
                    {"name": p.name, "api_endpoint": p.api_endpoint, "hosts": p.hosts}
                    for p in projects
                ]
            }
        )
        return EXIT_OK
    if not projects:
        print("No Hetzner Cloud project is connected (`vpshealth hetzner add PROJECT`).")
        return EXIT_OK
    rows = [[p.name, str(p.hosts), p.api_endpoint or "-"] for p in projects]
    print(output.table(["PROJECT", "HOSTS", "API ENDPOINT"], rows))
    return EXIT_OK


def remove_project(ctx: CliContext, args: argparse.Namespace) -> int:
    linked = ctx.core.operations.hetzner.remove_project(args.project)
    print(
        f"Disconnected Hetzner Cloud project {args.project} and deleted its token; its "
        f"{linked} hosts stay (`vpshealth host remove NAME` removes one)."
    )
    return EXIT_OK


def import_servers(ctx: CliContext, args: argparse.Namespace) -> int:
    key = key_from_options(
        args.key_file, False, args.agent, "hetzner-import", ctx.settings.key_passphrase
    ) or generated_key(f"hetzner-{args.project or 'import'}")
    with options_named():
        report = ctx.core.operations.hetzner.import_servers(
            args.project,
            key,
            label_selector=args.label_selector,
            trust_host_keys=args.trust_host_keys,
            user=args.user,
            port=args.port,
        )
    if args.json:
        output.print_json(_report_json(report))
    else:
        print(_report_text(report, args.user, ctx.core.secrets.where))
    return EXIT_OK


def _server_json(s: ImportedServer) -> dict[str, Any]:
    return {
        "project": s.project,
        "server_id": s.server_id,
        "server_name": s.server_name,
        "host": s.host_name,
        "address": s.address,
        "action": s.action,
        "tags": list(s.tags),
        "dropped_labels": list(s.dropped_labels),
        "host_key_fingerprint": s.host_key_fingerprint,
        "note": s.note,
    }


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "servers": [_server_json(s) for s in report.servers],
        "gone": [
            {"project": g.project, "server_id": g.server_id, "host": g.host_name}
            for g in report.gone
        ],
        "authorized_keys_line": report.public_line,
        "host_keys_not_trusted": report.untrusted,
    }


def _report_text(report: ImportReport, user: str, where: str) -> str:
    lines: list[str] = []
    if report.servers:
        rows = [
            [s.host_name, s.address or "-", s.action, ",".join(s.tags), _note(s)]
            for s in report.servers
        ]
        lines.append(output.table(["HOST", "ADDRESS", "ACTION", "TAGS", "NOTE"], rows))
    else:
        lines.append("The project has no servers (that the label selector selects).")
    counts = ", ".join(
        f"{report.count(a)} {a}" for a in ("added", "updated", "unchanged", "skipped")
    )
    lines.append(f"\n{counts}.")
    for gone in report.gone:
        lines.append(
            f"{gone.host_name}: server {gone.server_id} is no longer in the Hetzner Cloud "
            f"project {gone.project}; the host was kept (`vpshealth host remove "
            f"{gone.host_name}` removes it)."
        )
    if report.public_line:
        home = "/root" if user == "root" else f"~{user}"
        lines.append(
            f"\nA new ed25519 key was created for the new hosts and stored in {where}. Append "
            f"this line to {home}/.ssh/authorized_keys on each of them (it is shown only "
            f"now):\n\n{report.public_line}\n"
        )
    untrusted = report.untrusted
    if untrusted:
        lines.append(
            "Host keys not trusted yet (nothing is run on a server before its key is "
            "confirmed): compare each fingerprint with the server's and run "
            + ", ".join(f"`vpshealth host trust {name}`" for name in untrusted)
            + "; or import again with --trust-host-keys to trust them on first use."
        )
    elif report.host_keys_trusted and report.count("added"):
        lines.append(
            "The new servers' host keys were read now and trusted on first use; a changed "
            "key later stops the checks of that host."
        )
    return "\n".join(lines)


def _note(s: ImportedServer) -> str:
    notes = [s.note] if s.note else []
    if s.dropped_labels:
        notes.append("labels not usable as tags: " + ", ".join(s.dropped_labels))
    return "; ".join(notes)

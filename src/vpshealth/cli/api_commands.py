"""`vpshealth api token create | list | revoke`: the bearer tokens of the node's API."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.errors import EXIT_OK
from vpshealth.read_model import json_shapes


def register(commands: argparse._SubParsersAction[Any]) -> None:
    api = commands.add_parser(
        "api",
        help="the HTTP API of `vpshealth service --api`: its bearer tokens",
        description="Every API request but /api/v1/health needs `Authorization: Bearer TOKEN`.",
    )
    sub = api.add_subparsers(dest="api_command", metavar="ACTION", required=True)
    token = sub.add_parser("token", help="create, list and revoke API tokens")
    actions = token.add_subparsers(dest="token_action", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create",
        help="make a new token and print it once (only its hash is kept)",
        description="Print a new token on standard output. It is shown only now: the node "
        "keeps only its SHA-256 hash. A read-only token can read everything and change nothing.",
    )
    create.add_argument("name", metavar="NAME", help="who or what uses it, e.g. laptop")
    create.add_argument("--read-only", action="store_true", help="reads only: writes get 403")
    create.set_defaults(handler=create_token)

    lst = actions.add_parser("list", help="the tokens, when they were made and last used")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=list_tokens)

    revoke = actions.add_parser("revoke", help="delete a token: it stops working at once")
    revoke.add_argument("name", metavar="NAME")
    revoke.set_defaults(handler=revoke_token)


def create_token(ctx: CliContext, args: argparse.Namespace) -> int:
    new = ctx.core.api_tokens.create(args.name, read_only=args.read_only)
    kind = "read-only token" if args.read_only else "token"
    print(f"Created {kind} '{args.name}'. Copy it now; it is not shown again:", file=sys.stderr)
    print(new.token)
    return EXIT_OK


def list_tokens(ctx: CliContext, args: argparse.Namespace) -> int:
    tokens = ctx.core.api_tokens.list()
    if args.json:
        output.print_json(
            {
                "tokens": [
                    {
                        "name": t.name,
                        "read_only": t.read_only,
                        "created_at": _when(t.created_at),
                        "last_used_at": json_shapes.iso_time(
                            None if t.last_used_at is None else int(t.last_used_at)
                        ),
                    }
                    for t in tokens
                ]
            }
        )
        return EXIT_OK
    if not tokens:
        print("No API tokens yet; create one with `vpshealth api token create NAME`.")
        return EXIT_OK
    rows = [
        [
            t.name,
            "read-only" if t.read_only else "read-write",
            _when(t.created_at) or "-",
            output.ago(t.last_used_at) if t.last_used_at else "never",
        ]
        for t in tokens
    ]
    print(output.table(["NAME", "ACCESS", "CREATED", "LAST USED"], rows))
    return EXIT_OK


def revoke_token(ctx: CliContext, args: argparse.Namespace) -> int:
    ctx.core.api_tokens.revoke(args.name)
    print(f"Revoked token '{args.name}'; requests with it now get 401.")
    return EXIT_OK


def _when(ts: float | None) -> str | None:
    return json_shapes.iso_time(None if ts is None else int(ts))

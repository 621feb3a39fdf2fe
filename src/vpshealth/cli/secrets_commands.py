"""`vpshealth secrets status | reseal NEW_PASSPHRASE_FILE`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.errors import EXIT_OK, InputError
from vpshealth.secrets.sealed_file import SealedFileKeyring


def register(commands: argparse._SubParsersAction[Any]) -> None:
    secrets = commands.add_parser(
        "secrets",
        help="where SSH keys and passwords are kept: the OS keyring, or on a headless node "
        "the sealed secrets file (VPSHEALTH_SECRET_STORE=file)",
    )
    sub = secrets.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    status = sub.add_parser("status", help="say where the secrets are and whether they open")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=show_status)
    reseal = sub.add_parser(
        "reseal",
        help="seal the secrets file again with a new passphrase; then give the service the "
        "new passphrase and restart it",
    )
    reseal.add_argument(
        "new_passphrase_file", metavar="NEW_PASSPHRASE_FILE", type=Path,
        help="the file holding the new passphrase (e.g. from `openssl rand -base64 32`)",
    )  # fmt: skip
    reseal.set_defaults(handler=run_reseal)


def show_status(ctx: CliContext, args: argparse.Namespace) -> int:
    secrets = ctx.core.secrets
    secrets.require_usable()
    backend = secrets.backend
    if args.json:
        output.print_json(_status_json(backend))
        return EXIT_OK
    if isinstance(backend, SealedFileKeyring):
        print(
            f"Secrets are kept in {secrets.where}, sealed with the passphrase in "
            f"{backend.passphrase_file}; it opens."
        )
    else:
        print(f"Secrets are kept in {secrets.where} ({type(backend).__module__}).")
    return EXIT_OK


def _status_json(backend: object) -> dict[str, str | None]:
    if isinstance(backend, SealedFileKeyring):
        return {
            "store": "file",
            "path": str(backend.path),
            "passphrase_file": str(backend.passphrase_file),
            "backend": None,
        }
    return {
        "store": "keyring",
        "path": None,
        "passphrase_file": None,
        "backend": type(backend).__module__,
    }


def run_reseal(ctx: CliContext, args: argparse.Namespace) -> int:
    secrets = ctx.core.secrets
    backend = secrets.backend
    if not isinstance(backend, SealedFileKeyring):
        raise InputError(
            f"secrets are kept in {secrets.where}, not in a sealed file, so there is nothing "
            "to reseal (VPSHEALTH_SECRET_STORE=file chooses the sealed file)."
        )
    backend.require_usable()
    old = backend.passphrase_file
    backend.reseal(args.new_passphrase_file)
    print(
        f"Resealed {backend.path} with the passphrase in {args.new_passphrase_file}. The "
        f"passphrase in {old} no longer opens it: put the new one in its place (the Compose "
        "secret or the systemd credential) and restart the service."
    )
    return EXIT_OK

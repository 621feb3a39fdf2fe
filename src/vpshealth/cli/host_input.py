"""Turning command-line options into a validated Host, with errors that name the option."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from vpshealth.domain.hosts import (
    DEFAULT_INTERVAL_SECONDS,
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    Host,
)
from vpshealth.errors import InputError
from vpshealth.operations.errors import FieldError
from vpshealth.operations.host_fields import build_host as operations_build_host

_OPTION_OF_FIELD = {
    "name": "NAME",
    "address": "--address",
    "port": "--port",
    "user": "--user",
    "interval_seconds": "--interval",
    "tags": "--tag",
    "docker_socket": "--docker-socket",
    "host_key_fingerprint": "--host-key-fingerprint",
}


def option_of(field: str) -> str:
    return _OPTION_OF_FIELD.get(field, field)


@contextlib.contextmanager
def options_named() -> Iterator[None]:
    """Field errors of the operations, reworded with the option that gave the field."""
    try:
        yield
    except FieldError as exc:
        raise InputError(exc.worded(option_of(exc.field))) from None


def build_host(fields: dict[str, Any]) -> Host:
    with options_named():
        return operations_build_host(fields)


def add_host_options(parser: argparse.ArgumentParser, *, for_edit: bool) -> None:
    default: dict[str, Any] = {"default": None}
    parser.add_argument(
        "--address",
        required=not for_edit,
        help="DNS name, IPv4 or IPv6 address of the server",
        **({} if not for_edit else default),
    )
    parser.add_argument("--port", type=_int("--port"), help="SSH port (default 22)", **default)
    parser.add_argument("--user", help="user to log in as (default root)", **default)
    parser.add_argument(
        "--interval",
        type=_int("--interval"),
        help=f"seconds between checks, {MIN_INTERVAL_SECONDS}-{MAX_INTERVAL_SECONDS} "
        f"(default {DEFAULT_INTERVAL_SECONDS})",
        **default,
    )
    parser.add_argument(
        "--tag",
        action="append",
        dest="tags",
        metavar="TAG",
        help="a label for filtering, e.g. prod (repeat for several)"
        + ("; replaces the current tags" if for_edit else ""),
    )
    parser.add_argument(
        "--docker-socket",
        metavar="PATH",
        help="the Docker Engine socket on the server (default /var/run/docker.sock); reached "
        "through the SSH connection, nothing is opened on the network",
        **default,
    )
    keys = parser.add_mutually_exclusive_group(required=not for_edit)
    keys.add_argument(
        "--key-file",
        metavar="PATH",
        help="import this private key (OpenSSH or PEM) into the OS keyring; an encrypted key's "
        "passphrase is asked for, or read from VPSHEALTH_KEY_PASSPHRASE",
    )
    keys.add_argument(
        "--generate-key",
        action="store_true",
        help="create a new ed25519 key in the OS keyring and print the line to put in the "
        "server's authorized_keys",
    )
    keys.add_argument("--agent", action="store_true", help="log in with the running ssh-agent")
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument(
        "--trust-host-key",
        action="store_true",
        help="accept the server's host key without asking (trust on first use)",
    )
    trust.add_argument(
        "--host-key-fingerprint",
        metavar="SHA256:...",
        help="the host key fingerprint you expect (from `ssh-keygen -lf` on the server); any "
        "other key is refused",
    )


def _int(option: str) -> Any:
    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} takes a whole number, not {text!r}"
            ) from None

    return parse

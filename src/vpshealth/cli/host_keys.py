"""Getting a host's login key and its host key confirmed at the terminal: the prompts and
prints around the operations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Protocol

from asyncssh import KeyImportError

from vpshealth.cli import prompts
from vpshealth.cli.host_input import options_named
from vpshealth.collectors.ssh_keys import is_encrypted, parse_public_key_line
from vpshealth.errors import InputError
from vpshealth.operations.errors import FieldError, HostKeyUnconfirmed
from vpshealth.operations.host_keys import expected_fingerprint, where
from vpshealth.operations.login_keys import NewKey, agent_key, generated_key, key_from_text


def key_from_options(
    key_file: str | None, generate: bool, agent: bool, host_name: str, passphrase_env: str | None
) -> NewKey | None:
    if agent:
        try:
            return agent_key()
        except FieldError:
            raise InputError(
                "--agent needs a running ssh-agent, but SSH_AUTH_SOCK is not set in this "
                "shell. Start one with `eval $(ssh-agent)` and `ssh-add`. Nothing was saved."
            ) from None
    if generate:
        return generated_key(host_name)
    if key_file is None:
        return None
    return _read_key_file(Path(key_file).expanduser(), passphrase_env)


def _read_key_file(path: Path, passphrase_env: str | None) -> NewKey:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--key-file {path}: no such file. Nothing was saved.") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not a text key file"
        raise InputError(
            f"--key-file {path}: cannot read it ({reason}). Nothing was saved."
        ) from None
    passphrase = None
    if is_encrypted(text):
        passphrase = passphrase_env
        if passphrase is None:
            if not prompts.is_interactive():
                raise InputError(
                    f"--key-file {path} is encrypted: set VPSHEALTH_KEY_PASSPHRASE or run the "
                    "command in a terminal to type the passphrase. Nothing was saved."
                )
            passphrase = prompts.ask_secret(f"Passphrase for {path}: ")
    try:
        return key_from_text(text, passphrase)
    except FieldError as exc:
        raise InputError(f"--key-file {path}: {exc.problem}. Nothing was saved.") from None


class HostKeySource(Protocol):
    """Reads a server's host key and returns the line to pin (HostOperations, and the
    node link's operations)."""

    def host_key_for(
        self,
        name: str,
        address: str,
        port: int,
        expected_fingerprint: str | None = None,
        pinned: str | None = None,
    ) -> str: ...


def _describe(line: str) -> str:
    try:
        key = parse_public_key_line(line)
    except (ValueError, KeyImportError):
        return "unreadable"
    return f"{key.get_algorithm()} {key.get_fingerprint('sha256')}"


def confirm_host_key(
    hosts: HostKeySource,
    name: str,
    address: str,
    port: int,
    *,
    trust: bool,
    expected_fingerprint_text: str | None,
    pinned: str | None = None,
) -> str:
    """Fetch the server's host key and have it confirmed. Returns the key line to pin; the
    ``pinned`` line unchanged, without asking, when the server still presents it."""
    with options_named():
        expected = expected_fingerprint(expected_fingerprint_text)
    try:
        return hosts.host_key_for(name, address, port, expected, pinned)
    except HostKeyUnconfirmed as exc:
        presented = exc
    fingerprint = presented.fingerprint
    shown = f"{presented.algorithm} {fingerprint}"
    if pinned is not None:
        print(f"Trusted host key of {name}: {_describe(pinned)}", file=sys.stderr)
        print(f"Current host key of {name} ({where(address, port)}): {shown}", file=sys.stderr)
    else:
        print(f"Host key of {name} ({where(address, port)}): {shown}", file=sys.stderr)
    if trust:
        return presented.line
    if not prompts.is_interactive():
        raise InputError(
            f"{name}: the host key must be confirmed. Compare the fingerprint above with the "
            "server's, then pass --trust-host-key, or --host-key-fingerprint "
            f"{fingerprint}. Nothing was saved."
        )
    if not prompts.confirm("Is this the server's key? Trust it"):
        raise InputError(f"{name}: host key not trusted. Nothing was saved.")
    return presented.line

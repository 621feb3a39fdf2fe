"""Getting a host's login key into the keyring, and its host key confirmed, for the CLI."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from asyncssh import KeyImportError

from vpshealth.cli import prompts
from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.ssh import fetch_host_key
from vpshealth.collectors.ssh_keys import (
    KeyFileError,
    generate_ed25519,
    is_encrypted,
    load_private_key,
    parse_public_key_line,
    public_line_of,
)
from vpshealth.domain.hosts import AuthMethod, check_fingerprint
from vpshealth.errors import EXIT_NOT_OK, InputError, VpsHealthError
from vpshealth.operations.login_keys import NewKey, same_public_key


class HostUnreachableError(VpsHealthError):
    exit_code = EXIT_NOT_OK


class HostKeyRejectedError(VpsHealthError):
    exit_code = EXIT_NOT_OK


def key_from_options(
    key_file: str | None, generate: bool, agent: bool, host_name: str, passphrase_env: str | None
) -> NewKey | None:
    if agent:
        if not os.environ.get("SSH_AUTH_SOCK"):
            raise InputError(
                "--agent needs a running ssh-agent, but SSH_AUTH_SOCK is not set in this "
                "shell. Start one with `eval $(ssh-agent)` and `ssh-add`. Nothing was saved."
            )
        return NewKey(AuthMethod.AGENT)
    if generate:
        private, public = generate_ed25519(f"vpshealth@{host_name}")
        return NewKey(AuthMethod.KEY, private, None, public, generated=True)
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
        key = load_private_key(text, passphrase)
    except KeyFileError as exc:
        raise InputError(f"--key-file {path}: {exc}. Nothing was saved.") from None
    return NewKey(AuthMethod.KEY, text, passphrase, public_line_of(key))


def _describe(line: str) -> str:
    try:
        key = parse_public_key_line(line)
    except (ValueError, KeyImportError):
        return "unreadable"
    return f"{key.get_algorithm()} {key.get_fingerprint('sha256')}"


def confirm_host_key(
    name: str,
    address: str,
    port: int,
    *,
    timeout: float,
    trust: bool,
    expected_fingerprint: str | None,
    pinned: str | None = None,
) -> str:
    """Fetch the server's host key and have it confirmed. Returns the key line to pin; the
    ``pinned`` line unchanged, without asking, when the server still presents it."""
    expected = None
    if expected_fingerprint is not None:
        try:
            expected = check_fingerprint(expected_fingerprint.strip())
        except ValueError as exc:
            raise InputError(f"invalid --host-key-fingerprint: {exc}. Nothing was saved.") from None
    try:
        key = asyncio.run(fetch_host_key(address, port, timeout, prefer=pinned))
    except CollectionError as exc:
        raise HostUnreachableError(
            f"{name}: cannot read the host key: {exc.message}. Nothing was saved."
        ) from None
    line = public_line_of(key)
    fingerprint = str(key.get_fingerprint("sha256"))
    where = f"{address} port {port}" if port != 22 else address
    if expected is not None:
        if fingerprint.rstrip("=") != expected:
            raise HostKeyRejectedError(
                f"{name}: the server at {where} presented host key {fingerprint}, not the "
                f"expected {expected}. Nothing was saved; check the fingerprint on the server "
                "with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`."
            )
        return line
    if pinned is not None and same_public_key(line, pinned):
        return pinned
    if pinned is not None:
        print(f"Trusted host key of {name}: {_describe(pinned)}", file=sys.stderr)
        print(
            f"Current host key of {name} ({where}): {key.get_algorithm()} {fingerprint}",
            file=sys.stderr,
        )
    else:
        print(f"Host key of {name} ({where}): {key.get_algorithm()} {fingerprint}", file=sys.stderr)
    if trust:
        return line
    if not prompts.is_interactive():
        raise InputError(
            f"{name}: the host key must be confirmed. Compare the fingerprint above with the "
            "server's, then pass --trust-host-key, or --host-key-fingerprint "
            f"{fingerprint}. Nothing was saved."
        )
    if not prompts.confirm("Is this the server's key? Trust it"):
        raise InputError(f"{name}: host key not trusted. Nothing was saved.")
    return line

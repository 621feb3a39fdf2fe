"""A host's login key: chosen in a face, kept in the secret store (the key and its
passphrase)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from vpshealth.collectors.ssh_keys import (
    KeyFileError,
    generate_ed25519,
    load_private_key,
    public_line_of,
)
from vpshealth.domain.hosts import AuthMethod
from vpshealth.operations.errors import FieldError
from vpshealth.secrets import SecretStore, new_key_ref, passphrase_ref


@dataclass(frozen=True, slots=True)
class NewKey:
    """Key material chosen by the user, not yet stored."""

    auth: AuthMethod
    private_key: str | None = None
    passphrase: str | None = None
    public_line: str | None = None
    generated: bool = False


def key_from_text(text: str, passphrase: str | None) -> NewKey:
    """A private key (OpenSSH or PEM) as given. Raises FieldError("private_key") when it is
    not a key or the passphrase does not unlock it."""
    try:
        key = load_private_key(text, passphrase)
    except KeyFileError as exc:
        raise FieldError("private_key", str(exc)) from None
    return NewKey(AuthMethod.KEY, text, passphrase, public_line_of(key))


def generated_key(host_name: str) -> NewKey:
    """A new ed25519 key; its public line goes into the server's authorized_keys."""
    private, public = generate_ed25519(f"vpshealth@{host_name}")
    return NewKey(AuthMethod.KEY, private, None, public, generated=True)


def agent_key(environ: Mapping[str, str] = os.environ) -> NewKey:
    """Log in with the running ssh-agent. Raises FieldError("auth") when none runs."""
    if not environ.get("SSH_AUTH_SOCK"):
        raise FieldError(
            "auth",
            "no ssh-agent runs here (SSH_AUTH_SOCK is not set); start one with "
            "`eval $(ssh-agent)` and `ssh-add`, or choose another key",
        )
    return NewKey(AuthMethod.AGENT)


def store_key(secrets: SecretStore, key: NewKey) -> str | None:
    """Put the key (and its passphrase) into the secret store; returns the new key
    reference."""
    if key.auth is not AuthMethod.KEY or key.private_key is None:
        return None
    ref = new_key_ref()
    secrets.put(ref, key.private_key)
    if key.passphrase:
        try:
            secrets.put(passphrase_ref(ref), key.passphrase)
        except Exception:
            secrets.delete(ref)
            raise
    return ref


def delete_key(secrets: SecretStore, key_ref: str | None) -> None:
    if key_ref:
        secrets.delete(key_ref)
        secrets.delete(passphrase_ref(key_ref))


def same_public_key(line: str, other: str | None) -> bool:
    """The same algorithm and key, whatever the comments say."""
    return other is not None and line.split()[:2] == other.split()[:2]

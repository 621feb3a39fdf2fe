"""A host's login key: chosen in a face, kept in the keyring (the key and its passphrase)."""

from __future__ import annotations

from dataclasses import dataclass

from vpshealth.domain.hosts import AuthMethod
from vpshealth.secrets import SecretStore, new_key_ref, passphrase_ref


@dataclass(frozen=True, slots=True)
class NewKey:
    """Key material chosen by the user, not yet stored."""

    auth: AuthMethod
    private_key: str | None = None
    passphrase: str | None = None
    public_line: str | None = None
    generated: bool = False


def store_key(secrets: SecretStore, key: NewKey) -> str | None:
    """Put the key (and its passphrase) into the keyring; returns the new key reference."""
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

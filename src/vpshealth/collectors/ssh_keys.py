"""Key material helpers around asyncssh: import, generate, fingerprints, host keys."""

from __future__ import annotations

from dataclasses import dataclass

import asyncssh


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """How to log in: a private key (OpenSSH text, maybe with its passphrase) or the agent."""

    private_key: str | None = None
    passphrase: str | None = None
    agent_path: str | None = None

    def __repr__(self) -> str:
        kind = "key" if self.private_key else "agent" if self.agent_path else "none"
        return f"ClientCredentials({kind})"


class KeyFileError(ValueError):
    """The private key could not be read; the message is safe to show."""


_ENCRYPTED_KEY_HINT = "passphrase must be specified"


def load_private_key(text: str, passphrase: str | None) -> asyncssh.SSHKey:
    try:
        return asyncssh.import_private_key(text, passphrase)
    except asyncssh.KeyEncryptionError:
        raise KeyFileError("the passphrase does not unlock the key") from None
    except (asyncssh.KeyImportError, ValueError, TypeError) as exc:
        if _ENCRYPTED_KEY_HINT in str(exc).lower():
            raise KeyFileError("the key is encrypted and needs its passphrase") from None
        raise KeyFileError("this is not a private key in OpenSSH or PEM format") from None


def is_encrypted(text: str) -> bool:
    try:
        asyncssh.import_private_key(text)
    except asyncssh.KeyEncryptionError:
        return True
    except (asyncssh.KeyImportError, ValueError, TypeError) as exc:
        return _ENCRYPTED_KEY_HINT in str(exc).lower()
    return False


def generate_ed25519(comment: str) -> tuple[str, str]:
    """A new key as (private key in OpenSSH format, public key line)."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    private = key.export_private_key("openssh").decode()
    public = key.export_public_key("openssh").decode().strip()
    return private, public


def public_line_of(key: asyncssh.SSHKey) -> str:
    return key.export_public_key("openssh").decode().strip()


def fingerprint_of_line(public_key_line: str) -> str:
    return str(asyncssh.import_public_key(public_key_line).get_fingerprint("sha256"))


def parse_public_key_line(line: str) -> asyncssh.SSHKey:
    return asyncssh.import_public_key(line)

"""SSH private keys and their passphrases, kept only in the OS keyring.

The database stores a reference (``key_ref``); the key material lives in the keyring under the
service name ``vpshealth``. There is no plaintext fallback.
"""

from __future__ import annotations

import uuid
from typing import Final

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from vpshealth.errors import KeyringUnavailableError

SERVICE: Final = "vpshealth"

NO_KEYRING_MESSAGE: Final = (
    "No usable OS keyring was found, and VPS Health keeps SSH keys only in the keyring, "
    "never in plain files. On a Linux desktop, make sure a Secret Service provider such as "
    "gnome-keyring or KWallet is running and unlocked in your session (on a server without a "
    "desktop: run inside `dbus-run-session` with `gnome-keyring-daemon --unlock`). Or choose a "
    "backend explicitly with the PYTHON_KEYRING_BACKEND environment variable, e.g. "
    "PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring."
)


def new_key_ref() -> str:
    return f"ssh-key/{uuid.uuid4()}"


class SecretStore:
    """A thin, blocking wrapper over one keyring backend. Call it from a worker thread when on
    the event loop."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            self._backend = keyring.get_keyring()
        return self._backend

    def require_usable(self) -> None:
        if isinstance(self.backend, fail.Keyring):
            raise KeyringUnavailableError(NO_KEYRING_MESSAGE)

    def put(self, ref: str, secret: str) -> None:
        """Store and read back: a backend that silently drops secrets is refused."""
        self.require_usable()
        try:
            self.backend.set_password(SERVICE, ref, secret)
            kept = self.backend.get_password(SERVICE, ref) == secret
        except Exception as exc:
            raise KeyringUnavailableError(
                f"Could not store a secret in the OS keyring ({type(exc).__name__}). "
                + NO_KEYRING_MESSAGE
            ) from None
        if not kept:
            raise KeyringUnavailableError(
                f"The keyring backend {type(self.backend).__name__} did not keep the secret. "
                + NO_KEYRING_MESSAGE
            )

    def get(self, ref: str) -> str | None:
        self.require_usable()
        try:
            value: str | None = self.backend.get_password(SERVICE, ref)
        except Exception as exc:
            raise KeyringUnavailableError(
                f"Could not read from the OS keyring ({type(exc).__name__}). " + NO_KEYRING_MESSAGE
            ) from None
        return value

    def delete(self, ref: str) -> None:
        self.require_usable()
        try:
            self.backend.delete_password(SERVICE, ref)
        except keyring.errors.PasswordDeleteError:
            pass
        except Exception as exc:
            raise KeyringUnavailableError(
                f"Could not remove a secret from the OS keyring ({type(exc).__name__})."
            ) from None


def passphrase_ref(key_ref: str) -> str:
    return f"{key_ref}/passphrase"

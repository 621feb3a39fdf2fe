"""The store of secrets every part uses: put, get, delete, require_usable.

The database stores a reference (``key_ref``); the key material lives under the service name
``vpshealth`` in the OS keyring, or on a headless node in the sealed secrets file
(:class:`~vpshealth.secrets.sealed_file.SealedFileKeyring`). There is no plaintext fallback.
"""

from __future__ import annotations

import uuid
from typing import Final

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from vpshealth.errors import KeyringUnavailableError
from vpshealth.secrets.sealed_file import SealedFileKeyring

SERVICE: Final = "vpshealth"
OS_KEYRING: Final = "the OS keyring"

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

    @property
    def where(self) -> str:
        """Where the secrets are, for messages: "the OS keyring" or "the secrets file ..."."""
        if isinstance(self._backend, SealedFileKeyring):
            return self._backend.where
        return OS_KEYRING

    def require_usable(self) -> None:
        backend = self.backend
        if isinstance(backend, SealedFileKeyring):
            backend.require_usable()
        elif isinstance(backend, fail.Keyring):
            raise KeyringUnavailableError(NO_KEYRING_MESSAGE)

    def put(self, ref: str, secret: str) -> None:
        """Store and read back: a backend that silently drops secrets is refused."""
        self.require_usable()
        try:
            self.backend.set_password(SERVICE, ref, secret)
            kept = self.backend.get_password(SERVICE, ref) == secret
        except KeyringUnavailableError:
            raise
        except Exception as exc:
            raise self._failure("Could not store a secret in", exc) from None
        if not kept:
            raise KeyringUnavailableError(
                f"The keyring backend {type(self.backend).__name__} did not keep the secret. "
                + NO_KEYRING_MESSAGE
            )

    def get(self, ref: str) -> str | None:
        self.require_usable()
        try:
            value: str | None = self.backend.get_password(SERVICE, ref)
        except KeyringUnavailableError:
            raise
        except Exception as exc:
            raise self._failure("Could not read from", exc) from None
        return value

    def delete(self, ref: str) -> None:
        self.require_usable()
        try:
            self.backend.delete_password(SERVICE, ref)
        except keyring.errors.PasswordDeleteError:
            pass
        except KeyringUnavailableError:
            raise
        except Exception as exc:
            raise KeyringUnavailableError(
                f"Could not remove a secret from {self.where} ({type(exc).__name__})."
            ) from None

    def _failure(self, what: str, exc: Exception) -> KeyringUnavailableError:
        message = f"{what} {self.where} ({type(exc).__name__})."
        if self.where == OS_KEYRING:
            message += " " + NO_KEYRING_MESSAGE
        return KeyringUnavailableError(message)


def passphrase_ref(key_ref: str) -> str:
    return f"{key_ref}/passphrase"

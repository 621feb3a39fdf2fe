from __future__ import annotations

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringLocked, PasswordDeleteError

from vpshealth.errors import KeyringUnavailableError
from vpshealth.secrets import NO_KEYRING_MESSAGE, SERVICE, SecretStore, new_key_ref, passphrase_ref


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise PasswordDeleteError("missing")
        del self.items[(service, username)]


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("locked")


def test_round_trip_under_the_vpshealth_service_name() -> None:
    backend = MemoryKeyring()
    store = SecretStore(backend)
    ref = new_key_ref()
    store.put(ref, "secret")
    assert backend.items == {(SERVICE, ref): "secret"}
    assert store.get(ref) == "secret"
    store.delete(ref)
    store.delete(ref)  # deleting twice is fine
    assert store.get(ref) is None


def test_key_refs_are_unique_and_passphrases_sit_beside_them() -> None:
    first, second = new_key_ref(), new_key_ref()
    assert first != second
    assert first.startswith("ssh-key/")
    assert passphrase_ref(first) == f"{first}/passphrase"


def test_no_backend_is_a_clear_error() -> None:
    store = SecretStore(fail.Keyring())
    with pytest.raises(KeyringUnavailableError) as caught:
        store.put("ref", "secret")
    assert str(caught.value) == NO_KEYRING_MESSAGE
    assert "PYTHON_KEYRING_BACKEND" in str(caught.value)
    assert "gnome-keyring" in str(caught.value)
    with pytest.raises(KeyringUnavailableError):
        store.get("ref")


def test_a_backend_that_drops_secrets_is_refused() -> None:
    with pytest.raises(KeyringUnavailableError, match="did not keep the secret"):
        SecretStore(null.Keyring()).put("ref", "secret")


def test_backend_failures_never_leak_the_secret() -> None:
    store = SecretStore(LockedKeyring())
    with pytest.raises(KeyringUnavailableError) as caught:
        store.put("ref", "very-secret-value")
    assert "very-secret-value" not in str(caught.value)
    assert "KeyringLocked" in str(caught.value)

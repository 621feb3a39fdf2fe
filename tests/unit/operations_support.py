"""A core over a private folder and an in-memory keyring, for the operations' tests."""

from __future__ import annotations

from pathlib import Path

from keyring.backend import KeyringBackend

from vpshealth.app import Core, build_core
from vpshealth.config import Settings
from vpshealth.secrets import SecretStore


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def make_core(home: Path, keyring: MemoryKeyring) -> Core:
    settings = Settings(home=home, connect_timeout=5, warning_percent=85, critical_percent=95)
    return build_core(settings, secrets=SecretStore(keyring))

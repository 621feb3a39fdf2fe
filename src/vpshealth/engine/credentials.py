"""Fetching a host's login credentials from the keyring, off the event loop."""

from __future__ import annotations

import asyncio
import os
from typing import Protocol

from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.ssh_keys import ClientCredentials
from vpshealth.domain.health import Problem
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.errors import KeyringUnavailableError
from vpshealth.secrets import SecretStore, passphrase_ref


class CredentialSource(Protocol):
    async def for_host(self, host: Host) -> ClientCredentials: ...


class GivenCredentials:
    """Credentials not (yet) in the keyring, such as those typed into the host editor."""

    def __init__(self, credentials: ClientCredentials) -> None:
        self._credentials = credentials

    async def for_host(self, host: Host) -> ClientCredentials:
        return self._credentials


class CredentialsProvider:
    """Each host's credentials from the keyring (or the SSH agent)."""

    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets

    async def for_host(self, host: Host) -> ClientCredentials:
        if host.auth is AuthMethod.AGENT:
            agent = os.environ.get("SSH_AUTH_SOCK")
            if not agent:
                raise CollectionError(
                    Problem.KEY_MISSING,
                    f"{host.name} logs in with the SSH agent, but no agent is running here "
                    "(SSH_AUTH_SOCK is not set)",
                )
            return ClientCredentials(agent_path=agent)
        if host.auth is AuthMethod.NONE or host.key_ref is None:
            raise CollectionError(
                Problem.KEY_MISSING,
                f"{host.name} has no SSH key; set one with `vpshealth host edit {host.name} "
                "--key-file FILE` (or --generate-key, or --agent)",
            )
        return await asyncio.to_thread(self._load, host.name, host.key_ref)

    def _load(self, name: str, key_ref: str) -> ClientCredentials:
        try:
            private_key = self._secrets.get(key_ref)
            passphrase = self._secrets.get(passphrase_ref(key_ref)) if private_key else None
        except KeyringUnavailableError:
            raise CollectionError(
                Problem.KEYRING_UNAVAILABLE,
                f"{self._secrets.where} is not available, so the SSH key of {name} cannot be read",
            ) from None
        if not private_key:
            raise CollectionError(
                Problem.KEY_MISSING,
                f"the SSH key of {name} is missing from {self._secrets.where}; import it again "
                f"with `vpshealth host edit {name} --key-file FILE`",
            )
        return ClientCredentials(private_key=private_key, passphrase=passphrase)

"""Adding, editing, removing and trusting hosts with their login keys. Blocking (database,
secret store, one SSH handshake for a host key): call from a worker thread when on an event
loop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.errors import InputError
from vpshealth.operations.errors import (
    NOTHING_SAVED,
    ConflictError,
    LocalHostFieldError,
    NotFoundError,
    NothingToChangeError,
)
from vpshealth.operations.host_fields import build_host
from vpshealth.operations.host_keys import trusted_key_line
from vpshealth.operations.login_keys import NewKey, delete_key, store_key
from vpshealth.secrets import SecretStore
from vpshealth.store.host_repository import HostRecord, HostRepository

REMOTE_ONLY_FIELDS = ("address", "port", "user", "docker_socket")
"""What this computer (the local host, read directly) does not have."""


@dataclass(frozen=True, slots=True)
class FieldKept:
    """A field the edit did not change: it was changed elsewhere since the edit's base."""

    field: str
    kept: Any
    """The value the host has, and keeps."""
    lost: Any
    """The value the edit asked for."""


@dataclass(frozen=True, slots=True)
class HostEdited:
    host: Host
    kept: tuple[FieldKept, ...] = ()


def plain(value: Any) -> Any:
    """A field's value as JSON has it (tags as a list), for comparing."""
    return list(value) if isinstance(value, tuple) else value


class HostOperations:
    checks_here = True
    """False when a node runs the checks (and holds the keys)."""

    def __init__(self, hosts: HostRepository, secrets: SecretStore, connect_timeout: float) -> None:
        self._hosts = hosts
        self._secrets = secrets
        self._connect_timeout = connect_timeout

    def get(self, name: str) -> HostRecord:
        record = self._hosts.find(name)
        if record is None:
            raise NotFoundError(
                f"There is no host named '{name}'. `vpshealth host list` shows the hosts."
            )
        return record

    def list(self) -> list[HostRecord]:
        return self._hosts.list()

    def names(self) -> dict[int, str]:
        return self._hosts.names()

    def public_line_for(self, name: str, key: NewKey) -> str | None:
        """The line for the server's authorized_keys, when ``key`` was generated for it."""
        return key.public_line if key.generated else None

    def draft_new(self, fields: Mapping[str, Any]) -> Host:
        """The host ``fields`` describe, validated, before its keys are chosen. Raises
        FieldError, or ConflictError when the name is taken."""
        draft = build_host(fields)
        if self._hosts.find(draft.name) is not None:
            raise ConflictError(
                f"A host named '{draft.name}' already exists; pick another name or use "
                f"`vpshealth host edit {draft.name}`. {NOTHING_SAVED}"
            )
        return draft

    def check_key_store(self, key: NewKey | None) -> None:
        """Raises ConfigurationError when ``key`` must be stored and no secret store is
        usable, before the user is asked anything more."""
        if key is not None and key.auth is AuthMethod.KEY:
            self._secrets.require_usable()

    def host_key_for(
        self,
        name: str,
        address: str,
        port: int,
        expected_fingerprint: str | None = None,
        pinned: str | None = None,
    ) -> str:
        """Read the server's host key and return the line to pin. Raises HostKeyUnconfirmed
        (with the fingerprint to confirm), HostKeyRejected, HostUnreachable or FieldError."""
        return trusted_key_line(
            name,
            address,
            port,
            timeout=self._connect_timeout,
            expected=expected_fingerprint,
            pinned=pinned,
        )

    def add(self, fields: Mapping[str, Any], key: NewKey, host_key: str | None) -> HostRecord:
        """Store the key, then the host with ``host_key`` pinned; the key goes again if the
        host cannot be stored."""
        draft = self.draft_new(fields)
        self.check_key_store(key)
        key_ref = store_key(self._secrets, key)
        host = draft.model_copy(update={"auth": key.auth, "key_ref": key_ref, "host_key": host_key})
        try:
            self._hosts.add(host)
        except BaseException:
            delete_key(self._secrets, key_ref)
            raise
        return self._hosts.get(host.name)

    def draft_edit(
        self,
        name: str,
        changes: Mapping[str, Any],
        *,
        new_key: bool = False,
        new_host_key: bool = False,
    ) -> tuple[Host, Host]:
        """(the host as stored, the host as ``changes`` make it), validated. The local host
        takes only an interval, tags and enabled."""
        current = self.get(name).host
        if current.is_local:
            wrong = [f for f in REMOTE_ONLY_FIELDS if f in changes]
            wrong += ["auth"] * new_key + ["host_key"] * new_host_key
            if wrong:
                raise LocalHostFieldError(
                    wrong[0],
                    f"{current.name} is this computer, read directly: only interval_seconds, "
                    "tags and enabled apply (its Docker socket follows DOCKER_HOST)",
                )
        if not changes and not new_key and not new_host_key:
            raise NothingToChangeError(f"Nothing to change for {current.name}. {NOTHING_SAVED}")
        edited = build_host({**current.model_dump(), **changes})
        if edited.name != current.name and self._hosts.find(edited.name) is not None:
            raise ConflictError(
                f"A host named '{edited.name}' already exists; pick another name for "
                f"{current.name}. {NOTHING_SAVED}"
            )
        return current, edited

    def edit(
        self,
        name: str,
        changes: Mapping[str, Any],
        key: NewKey | None = None,
        host_key: str | None = None,
    ) -> Host:
        """Store the host with ``changes``; a new key replaces (and deletes) the old one, a
        new ``host_key`` line is pinned."""
        return self.edit_from(name, changes, {}, key, host_key).host

    def edit_from(
        self,
        name: str,
        changes: Mapping[str, Any],
        expected: Mapping[str, Any],
        key: NewKey | None = None,
        host_key: str | None = None,
    ) -> HostEdited:
        """``edit``, with the conflict rule of an edit made elsewhere: ``expected`` holds the
        values the edit was made from (its base). In one transaction, a field whose value
        still equals its base takes the change; a field changed meanwhile keeps its value
        (the first change to reach the host wins) and is answered in ``kept``."""
        current, _ = self.draft_edit(
            name, changes, new_key=key is not None, new_host_key=host_key is not None
        )
        self.check_key_store(key)
        updates: dict[str, Any] = {}
        if host_key is not None:
            updates["host_key"] = host_key
        new_ref = store_key(self._secrets, key) if key is not None else None
        if key is not None:
            updates.update(auth=key.auth, key_ref=new_ref)
        kept: list[FieldKept] = []

        def apply(now: Host) -> Host:
            kept.clear()
            for field, base in expected.items():
                value = plain(getattr(now, field, None))
                # an edit sent again after its answer was lost finds its own value: no conflict
                if field in changes and value not in (plain(base), plain(changes[field])):
                    kept.append(FieldKept(field, plain(getattr(now, field)), plain(changes[field])))
            lost = {k.field for k in kept}
            applied = {f: v for f, v in changes.items() if f not in lost}
            return build_host({**now.model_dump(), **applied}).model_copy(update=updates)

        try:
            edited = self._hosts.replace_from(current.name, apply)
        except BaseException:
            delete_key(self._secrets, new_ref)
            raise
        if key is not None and current.key_ref and current.key_ref != new_ref:
            delete_key(self._secrets, current.key_ref)
        return HostEdited(edited, tuple(kept))

    def remove(self, name: str) -> Host:
        """Forget the host and its history, and delete its key from the secret store."""
        host = self.get(name).host
        if host.key_ref:
            self._secrets.require_usable()
        self._hosts.remove(host.name)
        delete_key(self._secrets, host.key_ref)
        return host

    def trust_target(self, name: str) -> Host:
        """The host whose host key is to be trusted again (not the local host)."""
        host = self.get(name).host
        if host.is_local:
            raise InputError(f"{host.name} is this computer; it has no host key to trust.")
        return host

    def trust(self, name: str, line: str) -> bool:
        """Pin ``line`` as the host key of ``name``; False when it was pinned already."""
        host = self.trust_target(name)
        if line == host.host_key:
            return False
        self._hosts.replace(host.name, host.model_copy(update={"host_key": line}))
        return True

"""Adding, changing and removing hosts with their keys, exactly as `vpshealth host ...` does.
Blocking (database and keyring): run in a worker thread."""

from __future__ import annotations

from vpshealth.app import Core
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.operations.login_keys import NewKey, delete_key, store_key


def add_host(core: Core, host: Host, key: NewKey | None) -> int:
    """Store the key in the keyring, then the host; the key goes again if the host cannot be
    stored."""
    if key is not None and key.auth is AuthMethod.KEY:
        core.secrets.require_usable()
    key_ref = store_key(core.secrets, key) if key is not None else None
    if key is not None:
        host = host.model_copy(update={"auth": key.auth, "key_ref": key_ref})
    try:
        return core.hosts.add(host)
    except BaseException:
        delete_key(core.secrets, key_ref)
        raise


def replace_host(core: Core, old: Host, edited: Host, key: NewKey | None) -> None:
    """Store ``edited`` in place of ``old``; a new key replaces (and deletes) the old one."""
    if key is not None and key.auth is AuthMethod.KEY:
        core.secrets.require_usable()
    new_ref = store_key(core.secrets, key) if key is not None else None
    if key is not None:
        edited = edited.model_copy(update={"auth": key.auth, "key_ref": new_ref})
    try:
        core.hosts.replace(old.name, edited)
    except BaseException:
        delete_key(core.secrets, new_ref)
        raise
    if key is not None and old.key_ref and old.key_ref != new_ref:
        delete_key(core.secrets, old.key_ref)


def remove_host(core: Core, host: Host) -> None:
    """Forget the host and its history, and delete its key from the keyring."""
    if host.key_ref:
        core.secrets.require_usable()
    core.hosts.remove(host.name)
    delete_key(core.secrets, host.key_ref)

"""The secret store a setting chooses: the OS keyring, or the sealed file of a headless node."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from vpshealth.secrets.sealed_file import SealedFileKeyring
from vpshealth.secrets.secret_folder import RUN_SECRETS, find_passphrase_file
from vpshealth.secrets.store import SecretStore


def chosen_secret_store(
    kind: Literal["keyring", "file"],
    *,
    sealed_file: Path,
    passphrase_file: Path | None,
    secrets_dir: Path | None,
    environ: Mapping[str, str],
) -> SecretStore:
    """``secrets_dir`` (else ``/run/secrets``) is where the Compose secret with the passphrase
    is looked for. Nothing is read until a secret is first needed."""
    if kind == "keyring":
        return SecretStore()
    find = functools.partial(
        find_passphrase_file, passphrase_file, dict(environ), secrets_dir or RUN_SECRETS
    )
    return SecretStore(SealedFileKeyring(sealed_file, find))

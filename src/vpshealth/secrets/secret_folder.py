"""Secrets handed to a headless node as files: systemd credentials or Docker Compose secrets.

systemd's ``LoadCredential=`` puts them in ``$CREDENTIALS_DIRECTORY``; Compose mounts them in
``/run/secrets``. The environment is passed in, so tests can point everything elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from vpshealth.errors import InputError, KeyringUnavailableError

CREDENTIALS_DIRECTORY: Final = "CREDENTIALS_DIRECTORY"
RUN_SECRETS: Final = Path("/run/secrets")
PASSPHRASE_CREDENTIAL: Final = "vpshealth-secrets-passphrase"  # noqa: S105 - a file name
"""The passphrase's name as a systemd credential (``LoadCredential=``)."""
PASSPHRASE_SECRET: Final = "vpshealth_secrets_passphrase"  # noqa: S105 - a file name
"""The passphrase's name as a Docker Compose secret."""
MIN_PASSPHRASE_CHARS: Final = 12
MAX_SECRET_BYTES: Final = 1024 * 1024

_SECRET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


class SecretFileError(InputError):
    """A named secret file that cannot be used; the message names it and its folder."""


def secrets_folder(setting: Path | None, environ: Mapping[str, str]) -> Path:
    """``VPSHEALTH_SECRETS_DIR``, else ``$CREDENTIALS_DIRECTORY`` (systemd), else
    ``/run/secrets`` (Docker Compose)."""
    if setting is not None:
        return setting
    if credentials := environ.get(CREDENTIALS_DIRECTORY):
        return Path(credentials)
    return RUN_SECRETS


def read_secret_file(name: str, environ: Mapping[str, str], folder: Path | None = None) -> str:
    """The text of the secret file ``name`` in :func:`secrets_folder`: a bare file name, so
    ``/``, ``..`` and hidden files are refused. Blocking."""
    if not _SECRET_NAME.fullmatch(name) or ".." in name:
        raise SecretFileError(
            f"{name!r} is not the name of a secret: give the file name of a secret, such as "
            "web1_key (letters, digits, '.', '_' and '-'; no '/', no '..', not starting with "
            "'.')."
        )
    where = secrets_folder(folder, environ)
    path = where / name
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SECRET_BYTES + 1)
    except FileNotFoundError:
        raise SecretFileError(
            f"there is no secret {name} in {where}: under Docker Compose, list it under the "
            f"service's `secrets:` in compose.yaml; under systemd, add "
            f"LoadCredential={name}:/path/to/file to the unit."
        ) from None
    except OSError as exc:
        raise SecretFileError(
            f"the secret {path} cannot be read ({exc.strerror or type(exc).__name__}): make it "
            "readable by the user VPS Health runs as."
        ) from None
    if len(data) > MAX_SECRET_BYTES:
        raise SecretFileError(f"the secret {path} is over 1 MB: it is not an SSH key.")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise SecretFileError(
            f"the secret {path} is not text: give the private key in OpenSSH or PEM format."
        ) from None


def find_passphrase_file(
    setting: Path | None, environ: Mapping[str, str], run_secrets: Path = RUN_SECRETS
) -> Path:
    """``VPSHEALTH_SECRETS_PASSPHRASE_FILE`` when set (and then only that), else the systemd
    credential, else the Compose secret."""
    if setting is not None:
        if not setting.is_file():
            raise KeyringUnavailableError(
                f"VPSHEALTH_SECRETS_PASSPHRASE_FILE names {setting}, which is not a file: "
                "point it at the file that holds the secrets passphrase, or unset it."
            )
        return setting
    candidates = [run_secrets / PASSPHRASE_SECRET]
    if credentials := environ.get(CREDENTIALS_DIRECTORY):
        candidates.insert(0, Path(credentials) / PASSPHRASE_CREDENTIAL)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise KeyringUnavailableError(
        "VPSHEALTH_SECRET_STORE=file needs a passphrase to seal the secrets file, and none "
        f"was found (VPSHEALTH_SECRETS_PASSPHRASE_FILE is not set; looked for {looked}). "
        f"Under Docker Compose, give the service a secret named {PASSPHRASE_SECRET}; under "
        f"systemd, add LoadCredential={PASSPHRASE_CREDENTIAL}:/etc/vpshealth/passphrase to "
        "the unit; or set VPSHEALTH_SECRETS_PASSPHRASE_FILE. Make one with "
        "`openssl rand -base64 32`."
    )


def read_passphrase(path: Path) -> bytes:
    """The passphrase in ``path``, without the line break an editor or ``echo`` adds."""
    try:
        passphrase = path.read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise KeyringUnavailableError(
            f"the secrets passphrase file {path} cannot be read "
            f"({exc.strerror or type(exc).__name__}): make it readable by the user VPS Health "
            "runs as."
        ) from None
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise KeyringUnavailableError(
            f"the secrets passphrase in {path} is shorter than {MIN_PASSPHRASE_CHARS} "
            "characters: put a long random one there, e.g. from `openssl rand -base64 32`."
        )
    return passphrase

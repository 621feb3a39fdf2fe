"""Sealing a set of secrets with a passphrase: scrypt derives the key, AES-256-GCM encrypts.

Pure functions, no I/O. The sealed form is one JSON document: a header in clear (format,
version, the key derivation's parameters with its salt, a nonce), authenticated together with
the ciphertext, so that a changed header is found out like a changed ciphertext.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT: Final = "vpshealth-sealed-secrets"
VERSION: Final = 1
CIPHER: Final = "AES-256-GCM"
SALT_BYTES: Final = 16
NONCE_BYTES: Final = 12
KEY_BYTES: Final = 32

Entries = dict[str, dict[str, str]]
"""Secrets by service, then by name (the keyring's service and username)."""


class WrongPassphraseError(Exception):
    """The passphrase does not open the sealed document (or the document was changed)."""


class DamagedSealError(Exception):
    """The document is not a sealed secrets file this version can read."""


@dataclass(frozen=True, slots=True)
class KeyDerivation:
    """scrypt's cost parameters and the salt, kept in the header of each sealed document."""

    salt: bytes
    n: int = 2**15
    r: int = 8
    p: int = 1

    @classmethod
    def new(cls) -> KeyDerivation:
        return cls(os.urandom(SALT_BYTES))

    def derive(self, passphrase: bytes) -> bytes:
        return Scrypt(salt=self.salt, length=KEY_BYTES, n=self.n, r=self.r, p=self.p).derive(
            passphrase
        )

    def as_header(self) -> dict[str, Any]:
        return {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "salt": _b64(self.salt)}


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed document taken apart: what is needed to derive its key, and the rest."""

    kdf: KeyDerivation
    header: dict[str, Any]
    nonce: bytes
    ciphertext: bytes


def seal(entries: Entries, kdf: KeyDerivation, key: bytes) -> bytes:
    """``key`` is ``kdf.derive(passphrase)``; a fresh nonce for every call."""
    header = _header(kdf)
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(entries, sort_keys=True, separators=(",", ":")).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _associated(header))
    document = {**header, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}
    return (json.dumps(document, indent=1) + "\n").encode()


def parse(data: bytes) -> Sealed:
    try:
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise DamagedSealError("it is not a VPS Health secrets file")
        if document.get("version") != VERSION or document.get("cipher") != CIPHER:
            raise DamagedSealError(
                f"it is version {document.get('version')} of the format; this VPS Health "
                f"reads version {VERSION}"
            )
        kdf_fields = document["kdf"]
        if kdf_fields.get("name") != "scrypt":
            raise DamagedSealError(f"its key derivation {kdf_fields.get('name')!r} is unknown")
        kdf = KeyDerivation(
            salt=base64.b64decode(kdf_fields["salt"], validate=True),
            n=int(kdf_fields["n"]),
            r=int(kdf_fields["r"]),
            p=int(kdf_fields["p"]),
        )
        if not _reasonable(kdf):
            raise DamagedSealError("its key derivation parameters are out of range")
        return Sealed(
            kdf=kdf,
            header=_header(kdf),
            nonce=base64.b64decode(document["nonce"], validate=True),
            ciphertext=base64.b64decode(document["ciphertext"], validate=True),
        )
    except DamagedSealError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DamagedSealError(f"it is damaged ({type(exc).__name__})") from None


def unseal(sealed: Sealed, key: bytes) -> Entries:
    try:
        plaintext = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, _associated(sealed.header))
    except InvalidTag:
        raise WrongPassphraseError from None
    entries = json.loads(plaintext)
    if not isinstance(entries, dict):
        raise DamagedSealError("its content is not a set of secrets")
    return entries


def _reasonable(kdf: KeyDerivation) -> bool:
    """Parameters this version writes or could sensibly write; a doctored header must not make
    the key derivation take gigabytes."""
    power_of_two = kdf.n > 1 and kdf.n & (kdf.n - 1) == 0
    memory = 128 * kdf.n * kdf.r
    return power_of_two and kdf.r >= 1 and 1 <= kdf.p <= 16 and memory <= 256 * 2**20


def _header(kdf: KeyDerivation) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "cipher": CIPHER, "kdf": kdf.as_header()}


def _associated(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")

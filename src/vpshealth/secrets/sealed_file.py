"""A keyring backend for headless nodes: one file of secrets sealed with a passphrase.

Every write takes an exclusive lock on ``<file>.lock``, reads the file afresh, and replaces it
whole through a temporary file in the same folder, so that a CLI ``host add`` and the running
service never lose each other's writes. Reads take no lock (a replace is atomic) and decrypt
again only when the file changed. The key derived from the passphrase is kept for the process,
as the derivation is slow on purpose.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock
import keyring.backend
import keyring.errors
from keyring.compat import properties

from vpshealth.errors import KeyringUnavailableError
from vpshealth.secrets import sealing
from vpshealth.secrets.sealing import Entries, KeyDerivation
from vpshealth.secrets.secret_folder import read_passphrase

FILE_MODE = 0o600
_Stamp = tuple[int, int, int, int]


class SealedFileKeyring(keyring.backend.KeyringBackend):
    """Chosen explicitly (``VPSHEALTH_SECRET_STORE=file``), never by keyring's own detection.

    ``find_passphrase`` returns the file that holds the passphrase; it is called on first
    use, so that commands which need no secret do not need the passphrase either."""

    def __init__(self, path: Path, find_passphrase: Callable[[], Path]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.path = path
        self._find_passphrase = find_passphrase
        self._passphrase: tuple[Path, bytes] | None = None
        self._keys: dict[KeyDerivation, bytes] = {}
        self._seen: tuple[_Stamp, KeyDerivation, Entries] | None = None
        self._guard = threading.RLock()

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("the sealed secrets file is only used when chosen by a setting")

    @property
    def where(self) -> str:
        return f"the secrets file {self.path}"

    @property
    def passphrase_file(self) -> Path:
        """Where the passphrase is read from (looked up on first use)."""
        with self._guard:
            return self._passphrase_now()[0]

    def require_usable(self) -> None:
        """The passphrase is found and opens the file (when there is one yet)."""
        with self._guard:
            self._read()

    def get_password(self, service: str, username: str) -> str | None:
        with self._guard:
            return self._read().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._changing() as entries:
            entries.setdefault(service, {})[username] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._changing() as entries:
            if username not in entries.get(service, {}):
                raise keyring.errors.PasswordDeleteError(f"{username} is not in {self.where}")
            del entries[service][username]
            if not entries[service]:
                del entries[service]

    def reseal(self, new_passphrase_file: Path) -> None:
        """Seal the secrets again, with the passphrase in ``new_passphrase_file`` and a new
        salt; this store uses it from now on. Other processes need the new passphrase too."""
        new_passphrase = read_passphrase(new_passphrase_file)
        with self._guard, self._locked():
            self._seen = None
            entries = self._read()
            self._passphrase = (new_passphrase_file, new_passphrase)
            self._keys.clear()
            self._write(entries, KeyDerivation.new())

    # ---------------------------------------------------------------- reading
    def _read(self) -> Entries:
        passphrase_path, passphrase = self._passphrase_now()
        try:
            with self.path.open("rb") as handle:
                stamp = _stamp(os.fstat(handle.fileno()))
                if self._seen is not None and self._seen[0] == stamp:
                    return self._seen[2]
                data = handle.read()
        except FileNotFoundError:
            self._seen = None
            return {}
        except OSError as exc:
            raise self._failure("cannot be read", exc) from None
        kdf, entries = self._unseal(data, passphrase_path, passphrase)
        self._seen = (stamp, kdf, entries)
        return entries

    def _unseal(
        self, data: bytes, passphrase_path: Path, passphrase: bytes
    ) -> tuple[KeyDerivation, Entries]:
        try:
            sealed = sealing.parse(data)
            return sealed.kdf, sealing.unseal(sealed, self._key(sealed.kdf, passphrase))
        except sealing.WrongPassphraseError:
            raise KeyringUnavailableError(
                f"the passphrase in {passphrase_path} does not open {self.path}: give VPS Health "
                "the passphrase the file was sealed with, or move the file away and add the "
                "hosts' keys again."
            ) from None
        except sealing.DamagedSealError as exc:
            raise KeyringUnavailableError(
                f"{self.path} cannot be opened: {exc}. Restore it from a backup, or move it "
                "away and add the hosts' keys again."
            ) from None

    def _passphrase_now(self) -> tuple[Path, bytes]:
        if self._passphrase is None:
            path = self._find_passphrase()
            self._passphrase = (path, read_passphrase(path))
        return self._passphrase

    def _key(self, kdf: KeyDerivation, passphrase: bytes) -> bytes:
        if kdf not in self._keys:
            self._keys[kdf] = kdf.derive(passphrase)
        return self._keys[kdf]

    # ---------------------------------------------------------------- writing
    @contextlib.contextmanager
    def _changing(self) -> Iterator[Entries]:
        """The entries as they are on disk now, to change in place; written back on exit."""
        with self._guard, self._locked():
            self._seen = None
            current = self._read()
            kdf = self._seen[1] if self._seen is not None else KeyDerivation.new()
            entries = {service: dict(names) for service, names in current.items()}
            yield entries
            if entries != current:
                self._write(entries, kdf)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise self._failure("cannot be locked for writing", exc) from None
        try:
            filelock.lock_descriptor(fd)  # flock on POSIX, LockFileEx on Windows
            yield
        finally:
            os.close(fd)

    def _write(self, entries: Entries, kdf: KeyDerivation) -> None:
        """``kdf`` is the file's own, so that the key derived once serves every write."""
        passphrase = self._passphrase_now()[1]
        data = sealing.seal(entries, kdf, self._key(kdf, passphrase))
        folder = self.path.parent
        try:
            fd, temporary = tempfile.mkstemp(
                dir=folder, prefix=f".{self.path.name}.", suffix=".tmp"
            )
        except OSError as exc:
            raise self._failure("cannot be written", exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):  # not on Windows; mkstemp's file is private there
                    os.fchmod(handle.fileno(), FILE_MODE)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
            _sync_folder(folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise self._failure("cannot be written", exc) from None

    def _failure(self, what: str, exc: OSError) -> KeyringUnavailableError:
        reason = exc.strerror or type(exc).__name__
        return KeyringUnavailableError(
            f"{self.path} {what} ({reason}): the data folder must be writable by the user VPS "
            "Health runs as, and only by that user."
        )


def _stamp(st: os.stat_result) -> _Stamp:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _sync_folder(folder: Path) -> None:
    if os.name == "nt":
        return  # a folder cannot be opened there; NTFS journals the rename itself
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

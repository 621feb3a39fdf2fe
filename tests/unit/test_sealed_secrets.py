"""The sealed secrets file of a headless node, on a real file system."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncssh
import keyring
import keyring.backend
import pytest

from vpshealth.errors import KeyringUnavailableError
from vpshealth.secrets import NO_KEYRING_MESSAGE, SecretStore, passphrase_ref
from vpshealth.secrets.sealed_file import SealedFileKeyring
from vpshealth.secrets.sealing import KeyDerivation, parse, seal

PASSPHRASE = "correct horse battery staple"
SECRET = asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh").decode()
"""A key made for this run: the secret a node keeps."""


def passphrase_file(folder: Path, text: str = PASSPHRASE + "\n") -> Path:
    path = folder / "passphrase"
    path.write_text(text)
    return path


def store_at(folder: Path, passphrase: Path | None = None) -> SecretStore:
    found = passphrase or passphrase_file(folder)
    return SecretStore(SealedFileKeyring(folder / "secrets.sealed", lambda: found))


def test_round_trip(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.require_usable()  # no file yet: the passphrase alone is enough
    assert store.get("ssh-key/1") is None
    store.put("ssh-key/1", SECRET)
    store.put(passphrase_ref("ssh-key/1"), "key passphrase")
    assert store.get("ssh-key/1") == SECRET
    assert store.get(passphrase_ref("ssh-key/1")) == "key passphrase"
    store.delete("ssh-key/1")
    store.delete("ssh-key/1")  # deleting twice is fine
    assert store.get("ssh-key/1") is None
    assert store.get(passphrase_ref("ssh-key/1")) == "key passphrase"


def test_a_new_store_opens_what_another_sealed(tmp_path: Path) -> None:
    store_at(tmp_path).put("smtp/password", "s3cret")
    assert store_at(tmp_path).get("smtp/password") == "s3cret"


def test_where_names_the_file(tmp_path: Path) -> None:
    assert store_at(tmp_path).where == f"the secrets file {tmp_path / 'secrets.sealed'}"
    assert SecretStore().where == "the OS keyring"


def test_the_file_holds_no_secret_in_clear_and_is_private(tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        store_at(tmp_path).put("ssh-key/1", SECRET)
    finally:
        os.umask(old_umask)
    sealed = tmp_path / "secrets.sealed"
    assert sealed.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "secrets.sealed.lock").stat().st_mode & 0o777 == 0o600
    needles = [SECRET.encode(), SECRET.splitlines()[1].encode(), base64.b64encode(SECRET.encode())]
    needles += [b"ssh-key/1", PASSPHRASE.encode()]
    for path in tmp_path.iterdir():
        if path.name != "passphrase":
            content = path.read_bytes()
            assert not [n for n in needles if n in content], path
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "passphrase",
        "secrets.sealed",
        "secrets.sealed.lock",
    ]  # no temporary file left behind


def test_every_write_gets_a_fresh_nonce_and_keeps_the_salt(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    sealed = tmp_path / "secrets.sealed"
    store.put("a", "1")
    first = parse(sealed.read_bytes())
    store.put("b", "2")
    second = parse(sealed.read_bytes())
    assert first.kdf == second.kdf
    assert first.nonce != second.nonce


def test_a_wrong_passphrase_says_which_files(tmp_path: Path) -> None:
    store_at(tmp_path).put("ssh-key/1", SECRET)
    other = tmp_path / "other-passphrase"
    other.write_text("not the passphrase at all")
    store = store_at(tmp_path, other)
    with pytest.raises(KeyringUnavailableError) as caught:
        store.get("ssh-key/1")
    message = str(caught.value)
    assert message.startswith(
        f"the passphrase in {other} does not open {tmp_path / 'secrets.sealed'}: "
    )
    assert SECRET not in message
    assert "not the passphrase" not in message
    with pytest.raises(KeyringUnavailableError, match="does not open"):
        store.put("ssh-key/2", "other")  # and nothing is overwritten
    assert store_at(tmp_path).get("ssh-key/1") == SECRET


def test_resealing_with_a_new_passphrase(tmp_path: Path) -> None:
    old = passphrase_file(tmp_path)
    store = store_at(tmp_path, old)
    store.put("ssh-key/1", SECRET)
    salt_before = parse((tmp_path / "secrets.sealed").read_bytes()).kdf.salt
    new = tmp_path / "new-passphrase"
    new.write_text("a new passphrase, long enough\n")
    backend = store.backend
    assert isinstance(backend, SealedFileKeyring)
    backend.reseal(new)
    assert store.get("ssh-key/1") == SECRET
    assert store_at(tmp_path, new).get("ssh-key/1") == SECRET
    assert parse((tmp_path / "secrets.sealed").read_bytes()).kdf.salt != salt_before
    with pytest.raises(KeyringUnavailableError, match=f"the passphrase in {old} does not open"):
        store_at(tmp_path, old).get("ssh-key/1")


def test_a_changed_header_is_refused_like_a_wrong_passphrase(tmp_path: Path) -> None:
    store_at(tmp_path).put("ssh-key/1", SECRET)
    sealed = tmp_path / "secrets.sealed"
    document = json.loads(sealed.read_text())
    document["kdf"]["n"] = 2**14
    sealed.write_text(json.dumps(document))
    with pytest.raises(KeyringUnavailableError, match="does not open"):
        store_at(tmp_path).get("ssh-key/1")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "it is damaged"),
        (b'{"format": "something-else"}', "not a VPS Health secrets file"),
        (b'{"format": "vpshealth-sealed-secrets", "version": 9}', "version 9"),
        (
            b'{"format": "vpshealth-sealed-secrets", "version": 1, "cipher": "AES-256-GCM"}',
            "damaged",
        ),
    ],
)
def test_a_damaged_file_is_named(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "secrets.sealed").write_bytes(content)
    with pytest.raises(KeyringUnavailableError) as caught:
        store_at(tmp_path).require_usable()
    assert str(caught.value).startswith(f"{tmp_path / 'secrets.sealed'} cannot be opened: ")
    assert reason in str(caught.value)


def test_absurd_key_derivation_costs_are_refused(tmp_path: Path) -> None:
    kdf = KeyDerivation(os.urandom(16), n=2**14)
    document = json.loads(seal({}, kdf, kdf.derive(PASSPHRASE.encode())))
    document["kdf"]["n"] = 2**30
    (tmp_path / "secrets.sealed").write_text(json.dumps(document))
    with pytest.raises(KeyringUnavailableError, match="out of range"):
        store_at(tmp_path).require_usable()


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "secrets.sealed").mkdir()
    with pytest.raises(KeyringUnavailableError) as caught:
        store_at(tmp_path).get("ssh-key/1")
    assert str(caught.value).startswith(f"{tmp_path / 'secrets.sealed'} cannot be read (")
    assert NO_KEYRING_MESSAGE not in str(caught.value)


def test_an_unwritable_folder_is_named(tmp_path: Path) -> None:
    passphrase = passphrase_file(tmp_path)
    missing = tmp_path / "no-such-folder"
    store = SecretStore(SealedFileKeyring(missing / "secrets.sealed", lambda: passphrase))
    with pytest.raises(KeyringUnavailableError, match="cannot be locked for writing"):
        store.put("ssh-key/1", SECRET)


def test_two_stores_in_one_process_see_each_others_writes(tmp_path: Path) -> None:
    first, second = store_at(tmp_path), store_at(tmp_path)
    first.put("a", "1")
    assert second.get("a") == "1"
    second.put("b", "2")
    assert first.get("b") == "2"
    first.delete("a")
    assert second.get("a") is None
    assert first.get("b") == "2"


def test_writer_threads_sharing_a_store_or_not_lose_nothing(tmp_path: Path) -> None:
    shared, other = store_at(tmp_path), store_at(tmp_path)
    stores = [shared, shared, other, store_at(tmp_path)]

    def write(writer: int) -> None:
        for i in range(10):
            stores[writer].put(f"ssh-key/{writer}-{i}", f"secret {writer} {i}")

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(write, range(len(stores))))
    found = {other.get(f"ssh-key/{w}-{i}") for w in range(len(stores)) for i in range(10)}
    assert found == {f"secret {w} {i}" for w in range(len(stores)) for i in range(10)}


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from vpshealth.secrets import SecretStore
    from vpshealth.secrets.sealed_file import SealedFileKeyring

    folder, writer, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = SecretStore(SealedFileKeyring(folder / "secrets.sealed", lambda: folder / "passphrase"))
    for i in range(count):
        store.put(f"ssh-key/{writer}-{i}", f"secret {writer} {i}")
    """
)


def test_writers_in_several_processes_lose_nothing(tmp_path: Path) -> None:
    passphrase_file(tmp_path)
    writers, count = 4, 15
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(w), str(count)])
        for w in range(writers)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * writers
    store = store_at(tmp_path)
    found = {(w, i): store.get(f"ssh-key/{w}-{i}") for w in range(writers) for i in range(count)}
    assert found == {(w, i): f"secret {w} {i}" for w in range(writers) for i in range(count)}


def test_keyrings_own_detection_never_picks_the_file() -> None:
    viable = list(keyring.backend.get_all_keyring())
    assert not [k for k in viable if isinstance(k, SealedFileKeyring)]
    assert not SealedFileKeyring.viable

"""Secrets handed over as files: the passphrase lookup and the named secret files."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

from vpshealth.app import build_core
from vpshealth.config import Settings
from vpshealth.errors import EXIT_USAGE, InputError, KeyringUnavailableError
from vpshealth.secrets.secret_folder import (
    SecretFileError,
    find_passphrase_file,
    read_passphrase,
    read_secret_file,
    secrets_folder,
)

LONG = "a passphrase long enough"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_setting_wins_and_is_the_only_place_looked_at(tmp_path: Path) -> None:
    given = write(tmp_path / "given", LONG)
    run_secrets = tmp_path / "run-secrets"
    write(run_secrets / "vpshealth_secrets_passphrase", LONG)
    assert find_passphrase_file(given, {}, run_secrets) == given
    with pytest.raises(KeyringUnavailableError) as caught:
        find_passphrase_file(tmp_path / "missing", {}, run_secrets)
    assert str(caught.value).startswith(
        f"VPSHEALTH_SECRETS_PASSPHRASE_FILE names {tmp_path / 'missing'}, which is not a file"
    )


def test_the_systemd_credential_comes_before_the_compose_secret(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    run_secrets = tmp_path / "run-secrets"
    compose = write(run_secrets / "vpshealth_secrets_passphrase", LONG)
    environ = {"CREDENTIALS_DIRECTORY": str(credentials)}
    assert find_passphrase_file(None, environ, run_secrets) == compose
    systemd = write(credentials / "vpshealth-secrets-passphrase", LONG)
    assert find_passphrase_file(None, environ, run_secrets) == systemd
    assert find_passphrase_file(None, {}, run_secrets) == compose


def test_no_passphrase_says_where_it_looked_and_how_to_give_one(tmp_path: Path) -> None:
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path / "credentials")}
    with pytest.raises(KeyringUnavailableError) as caught:
        find_passphrase_file(None, environ, tmp_path / "run-secrets")
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE
    assert "\n" not in message
    assert message.startswith("VPSHEALTH_SECRET_STORE=file needs a passphrase")
    assert str(tmp_path / "credentials" / "vpshealth-secrets-passphrase") in message
    assert str(tmp_path / "run-secrets" / "vpshealth_secrets_passphrase") in message
    assert "Docker Compose" in message
    assert "LoadCredential=" in message
    assert "VPSHEALTH_SECRETS_PASSPHRASE_FILE" in message


def test_the_passphrase_loses_its_line_break_only(tmp_path: Path) -> None:
    assert read_passphrase(write(tmp_path / "p", f" {LONG} \r\n")) == f" {LONG} ".encode()


def test_a_short_or_unreadable_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyringUnavailableError, match="shorter than 12 characters"):
        read_passphrase(write(tmp_path / "short", "hunter2\n"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(KeyringUnavailableError, match=r"folder cannot be read \("):
        read_passphrase(tmp_path / "folder")


def test_the_secrets_folder(tmp_path: Path) -> None:
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}
    assert secrets_folder(tmp_path / "set", environ) == tmp_path / "set"
    assert secrets_folder(None, environ) == tmp_path / "creds"
    assert secrets_folder(None, {}) == Path("/run/secrets")


def test_a_named_secret_is_read_from_the_folder(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh").decode()
    write(tmp_path / "web1_key", key)
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert read_secret_file("web1_key", environ) == key
    assert read_secret_file("web1_key", {}, tmp_path) == key


@pytest.mark.parametrize(
    "name", ["", "../etc/shadow", "sub/key", "/etc/shadow", ".hidden", "..", "a..b", "k\x00"]
)
def test_names_that_leave_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    write(tmp_path / "sub" / "key", "x")
    write(tmp_path / ".hidden", "x")
    with pytest.raises(SecretFileError) as caught:
        read_secret_file(name, {}, tmp_path)
    assert isinstance(caught.value, InputError)
    assert "is not the name of a secret" in str(caught.value)


def test_a_missing_secret_says_how_to_provide_it(tmp_path: Path) -> None:
    with pytest.raises(SecretFileError) as caught:
        read_secret_file("web1_key", {}, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"there is no secret web1_key in {tmp_path}: ")
    assert "compose.yaml" in message
    assert "LoadCredential=web1_key:" in message


def test_a_secret_that_is_no_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SecretFileError, match="is not text"):
        read_secret_file("binary", {}, tmp_path)
    (tmp_path / "huge").write_bytes(b"a" * (1024 * 1024 + 1))
    with pytest.raises(SecretFileError, match="over 1 MB"):
        read_secret_file("huge", {}, tmp_path)
    (tmp_path / "folder").mkdir()
    with pytest.raises(SecretFileError, match="cannot be read"):
        read_secret_file("folder", {}, tmp_path)


def test_the_setting_chooses_the_store(tmp_path: Path) -> None:
    passphrase = write(tmp_path / "passphrase", LONG)
    settings = Settings(home=tmp_path, secret_store="file", secrets_passphrase_file=passphrase)
    core = build_core(settings)
    try:
        sealed = tmp_path / "data" / "secrets.sealed"
        assert core.secrets.where == f"the secrets file {sealed}"
        core.secrets.put("ssh-key/1", "secret")
        assert sealed.is_file()
    finally:
        core.close()
    desktop = build_core(Settings(home=tmp_path / "desktop"))
    try:
        assert desktop.secrets.where == "the OS keyring"
    finally:
        desktop.close()


def test_the_store_setting_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VPSHEALTH_SECRET_STORE", "file")
    monkeypatch.setenv("VPSHEALTH_SECRETS_PASSPHRASE_FILE", str(tmp_path / "p"))
    monkeypatch.setenv("VPSHEALTH_SECRETS_DIR", str(tmp_path / "s"))
    settings = Settings()
    assert settings.secret_store == "file"
    assert settings.secrets_passphrase_file == tmp_path / "p"
    assert settings.secrets_dir == tmp_path / "s"
    assert Settings(secret_store="keyring").secret_store == "keyring"

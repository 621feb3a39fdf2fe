"""`vpshealth secrets status | reseal`, in-process against a private VPSHEALTH_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vpshealth.cli.main import main
from vpshealth.secrets import SecretStore
from vpshealth.secrets.sealed_file import SealedFileKeyring

Run = tuple[int, str, str]


@pytest.fixture
def passphrase(cli_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = cli_home / "passphrase"
    path.write_text("the node's first passphrase\n")
    monkeypatch.setenv("VPSHEALTH_SECRET_STORE", "file")
    monkeypatch.setenv("VPSHEALTH_SECRETS_PASSPHRASE_FILE", str(path))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def sealed(home: Path, passphrase: Path) -> SecretStore:
    return SecretStore(SealedFileKeyring(home / "data" / "secrets.sealed", lambda: passphrase))


def test_status_names_the_file_and_the_passphrase(
    cli_home: Path, passphrase: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "secrets", "status")
    assert (code, err) == (0, "")
    sealed_file = cli_home / "data" / "secrets.sealed"
    assert out == (
        f"Secrets are kept in the secrets file {sealed_file}, sealed with the passphrase in "
        f"{passphrase}; it opens.\n"
    )


def test_status_as_json(
    cli_home: Path, passphrase: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "secrets", "status", "--json")
    assert code == 0
    assert json.loads(out) == {
        "store": "file",
        "path": str(cli_home / "data" / "secrets.sealed"),
        "passphrase_file": str(passphrase),
        "backend": None,
    }


def test_status_without_a_keyring_is_the_keyring_error(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "secrets", "status")
    assert code == 2
    assert "No usable OS keyring was found" in err


def test_reseal_changes_the_passphrase(
    cli_home: Path, passphrase: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_home / "data").mkdir()
    sealed(cli_home, passphrase).put("ssh-key/1", "private key")
    new = cli_home / "new-passphrase"
    new.write_text("the node's second passphrase\n")
    code, out, err = run(capsys, "secrets", "reseal", str(new))
    assert (code, err) == (0, "")
    assert out.startswith(f"Resealed {cli_home / 'data' / 'secrets.sealed'} with the passphrase")
    assert f"The passphrase in {passphrase} no longer opens it" in out
    assert sealed(cli_home, new).get("ssh-key/1") == "private key"
    code, _, err = run(capsys, "secrets", "status")
    assert code == 2
    assert f"the passphrase in {passphrase} does not open" in err


def test_reseal_needs_the_sealed_file(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "secrets", "reseal", str(cli_home / "new"))
    assert code == 2
    assert "secrets are kept in the OS keyring, not in a sealed file" in err

"""`vpshealth notify channel edit`, in-process against a private VPSHEALTH_HOME whose secrets
are the node's sealed file: what is named changes, the rest stays, a bad value changes
nothing."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from vpshealth.cli.main import main
from vpshealth.errors import EXIT_USAGE
from vpshealth.secrets import SERVICE
from vpshealth.secrets.sealed_file import SealedFileKeyring

Run = tuple[int, str, str]


@pytest.fixture
def sealed(cli_home: Path, monkeypatch: pytest.MonkeyPatch) -> SealedFileKeyring:
    passphrase = cli_home / "passphrase"
    passphrase.write_text("a passphrase for the channel tests\n")
    monkeypatch.setenv("VPSHEALTH_SECRET_STORE", "file")
    monkeypatch.setenv("VPSHEALTH_SECRETS_PASSPHRASE_FILE", str(passphrase))
    return SealedFileKeyring(cli_home / "data" / "secrets.sealed", lambda: passphrase)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code, out, _ = run(capsys, "notify", "channel", "list", "--json")
    assert code == 0
    channels = json.loads(out)["channels"]
    assert len(channels) == 1
    return dict(channels[0])


def test_edit_changes_what_is_named_and_keeps_the_rest(
    sealed: SealedFileKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "notify", "channel", "add", "phone", "ntfys://ntfy.sh/old-topic")
    assert (code, err) == (0, "")
    code, out, err = run(
        capsys, "notify", "channel", "edit", "phone", "--min-severity", "critical",
        "--batch-seconds", "0", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert json.loads(out)["min_severity"] == "critical"
    channel = listed(capsys)
    assert (channel["min_severity"], channel["batch_seconds"]) == ("critical", 0)
    assert channel["max_per_host_per_hour"] == 10
    assert "old-topic" in str(channel["url"])


def test_a_new_url_from_stdin_replaces_the_old_one_in_the_secret_store(
    cli_home: Path,
    sealed: SealedFileKeyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(capsys, "notify", "channel", "add", "team", "json://127.0.0.1:9/old")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("tgram://123456:secret-token/-100200\n"))
    code, out, err = run(capsys, "notify", "channel", "edit", "team", "--url-stdin")
    assert (code, err) == (0, "")
    assert "secret-token" not in out
    assert listed(capsys)["service"] != "json"
    with sqlite3.connect(cli_home / "data" / "vpshealth.sqlite3") as db:
        (ref,) = db.execute("SELECT secret_ref FROM channels WHERE name = 'team'").fetchone()
    assert sealed.get_password(SERVICE, ref) == "tgram://123456:secret-token/-100200"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--min-severity", "loud"], "vpshealth: channel phone: invalid --min-severity"),
        (["--url", "bogus://example.com"], "vpshealth: channel phone: invalid URL"),
        ([], "vpshealth: channel phone: nothing to change"),
    ],
)
def test_a_bad_edit_is_exit_2_naming_the_channel_and_changes_nothing(
    sealed: SealedFileKeyring,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    assert run(capsys, "notify", "channel", "add", "phone", "ntfys://ntfy.sh/topic")[0] == 0
    before = listed(capsys)
    code, out, err = run(capsys, "notify", "channel", "edit", "phone", *argv)
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1
    assert listed(capsys) == before

"""`vpshealth notify ...` and `vpshealth outbox` in-process: validation, nothing half-saved,
what is shown. Sending for real is in tests/integration/test_email_smtp.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.email_helpers import T0
from vpshealth.cli.main import main
from vpshealth.store.database import open_database
from vpshealth.store.outbox_repository import OutboxDraft, OutboxRepository
from vpshealth.store.settings_repository import SettingsRepository

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def stored(home: Path) -> dict[str, object]:
    engine = open_database(home / "data" / "vpshealth.sqlite3")
    try:
        return SettingsRepository(engine).with_prefix("email.")
    finally:
        engine.dispose()


def test_settings_are_stored_validated(run: Run, cli_home: Path) -> None:
    code, out, err = run(
        "notify", "email", "--smtp-host", "mail.example.com", "--from", "vps@example.com",
        "--to", "a@example.com", "--to", "b@example.com", "--min-severity", "CRITICAL",
        "--batch-seconds", "30", "--smtp-port", "2525",
    )  # fmt: skip
    assert code == 0, err
    assert "a@example.com, b@example.com via mail.example.com:2525 (starttls)" in out
    assert stored(cli_home) == {
        "smtp_host": "mail.example.com",
        "from": "vps@example.com",
        "to": ["a@example.com", "b@example.com"],
        "min_severity": "critical",
        "batch_seconds": 30,
        "smtp_port": 2525,
    }


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--smtp-host", "a b"], "--smtp-host"),
        (["--smtp-port", "0"], "--smtp-port"),
        (["--security", "ssl"], "--security"),
        (["--to", "ok@example.com", "--to", "nope"], "--to"),
        (["--from", "x"], "--from"),
        (["--min-severity", "info"], "--min-severity"),
        (["--batch-seconds", "5000"], "--batch-seconds"),
        (["--max-per-host-per-hour", "x"], "--max-per-host-per-hour"),
        (["--ca-file", "/nonexistent.pem"], "--ca-file"),
        (["--smtp-host", "mail.example.com", "--security", "none"], "--security"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    run: Run, cli_home: Path, args: list[str], named: str
) -> None:
    code, _, err = run("notify", "email", "--smtp-host", "localhost", *args)
    assert code == 2
    assert err.startswith(f"vpshealth: invalid {named}: ")
    assert err.rstrip().endswith("Nothing was saved.")
    assert len(err.strip().splitlines()) == 1
    assert stored(cli_home) == {}


def test_a_password_needs_a_keyring_and_nothing_is_saved_without_one(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("s3cret\n"))
    code, _, err = run("notify", "email", "--user", "me", "--password-stdin")
    assert code == 2
    assert "keyring" in err
    assert stored(cli_home) == {}


def test_show_marks_environment_overrides(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("notify", "email", "--smtp-host", "mail.example.com")[0] == 0
    monkeypatch.setenv("VPSHEALTH_SMTP_HOST", "relay.example.net")
    monkeypatch.setenv("VPSHEALTH_SMTP_TO", "a@example.com,b@example.com")
    code, out, _ = run("notify", "show", "--json")
    assert code == 0
    data = json.loads(out)
    by_key = {row["setting"]: row for row in data["settings"]}
    assert by_key["email.smtp_host"] == {
        "setting": "email.smtp_host",
        "value": "relay.example.net",
        "source": "VPSHEALTH_SMTP_HOST",
    }
    assert by_key["email.to"]["value"] == ["a@example.com", "b@example.com"]
    assert by_key["email.min_severity"]["source"] == "default"
    assert data["configured"] is False
    assert "--from" in data["problem"]
    assert data["password"] == "not needed (no user)"


def test_saving_a_value_the_environment_overrides_says_so(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPSHEALTH_SMTP_HOST", "relay.example.net")
    code, out, _ = run("notify", "email", "--smtp-host", "mail.example.com")
    assert code == 0
    assert "VPSHEALTH_SMTP_HOST is set and overrides the stored --smtp-host" in out


def test_show_a_bad_override_without_failing(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_SMTP_FROM", "nobody")
    code, out, _ = run("notify", "show")
    assert code == 0
    assert "nobody" in out
    assert "Not sending: invalid VPSHEALTH_SMTP_FROM" in out


def test_test_without_settings_says_how_to_set_up(run: Run) -> None:
    code, _, err = run("notify", "test")
    assert code == 2
    assert "vpshealth notify email" in err


def test_outbox_lists_messages(run: Run, cli_home: Path) -> None:
    assert run("outbox")[1].strip() == "No e-mails yet."
    engine = open_database(cli_home / "data" / "vpshealth.sqlite3")
    try:
        repo = OutboxRepository(engine)
        first = repo.add(
            OutboxDraft("email", "<1@example.com>", "[VPS Health] one", "t", None, ("a@x.io",)),
            T0,
        )
        repo.begin_attempt(first, T0 + 30)
        repo.record_failure(first, "could not connect to mail:587", give_up=False)
        second = repo.add(
            OutboxDraft("email", "<2@example.com>", "[VPS Health] two", "t", "h", ("a@x.io",)),
            T0,
        )
        repo.begin_attempt(second, T0 + 30)
        repo.mark_sent(second, T0 + 1)
    finally:
        engine.dispose()
    code, out, _ = run("outbox", "--json")
    assert code == 0
    messages = json.loads(out)["messages"]
    assert [(m["id"], m["status"], m["attempts"]) for m in messages] == [
        (second, "sent", 1),
        (first, "pending", 1),
    ]
    assert messages[1]["last_error"] == "could not connect to mail:587"
    assert messages[0]["sent_at"] == "2027-01-15T08:00:01Z"
    code, out, _ = run("outbox")
    assert "could not connect to mail:587" in out
    assert "[VPS Health] two" in out

from pathlib import Path

import pytest

from vpshealth.domain.containers import Severity
from vpshealth.store.database import open_database
from vpshealth.store.settings_keys import DESKTOP_MIN_SEVERITY_KEY
from vpshealth.store.settings_repository import SettingsRepository


def test_values_round_trip_and_none_removes(tmp_path: Path) -> None:
    repo = SettingsRepository(open_database(tmp_path / "db.sqlite3"))
    repo.update({"email.smtp_host": "mail.example.com", "email.smtp_port": 587}, now=10)
    repo.update({"email.to": ["a@example.com", "b@example.com"], "other": True}, now=11)
    assert repo.get("email.smtp_port") == 587
    assert repo.with_prefix("email.") == {
        "smtp_host": "mail.example.com",
        "smtp_port": 587,
        "to": ["a@example.com", "b@example.com"],
    }
    repo.update({"email.smtp_host": None, "email.smtp_port": 25}, now=12)
    assert repo.get("email.smtp_host", "none") == "none"
    assert repo.get("email.smtp_port") == 25


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, Severity.WARNING),
        ("critical", Severity.CRITICAL),
        ("warning", Severity.WARNING),
        ("loud", Severity.WARNING),
        ([1], Severity.WARNING),
    ],
)
def test_desktop_min_severity_falls_back_to_warning(
    tmp_path: Path, stored: object, expected: Severity
) -> None:
    repo = SettingsRepository(open_database(tmp_path / "db.sqlite3"))
    repo.update({DESKTOP_MIN_SEVERITY_KEY: stored}, now=10)
    assert repo.desktop_min_severity() is expected

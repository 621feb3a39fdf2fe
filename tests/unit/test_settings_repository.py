from pathlib import Path

from vpshealth.store.database import open_database
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

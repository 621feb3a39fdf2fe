"""Settings come from VPSHEALTH_<FIELD> environment variables; constructor values win."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vpshealth.config import Settings


def test_defaults_without_variables() -> None:
    settings = Settings(home=None)
    assert settings.connect_timeout == 10.0
    assert settings.max_concurrent_polls == 64
    assert settings.smtp_host is None


def test_variables_are_read_and_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_CONNECT_TIMEOUT", "2.5")
    monkeypatch.setenv("VPSHEALTH_MAX_CONCURRENT_POLLS", "12")
    monkeypatch.setenv("VPSHEALTH_SMTP_SECURITY", "tls")
    monkeypatch.setenv("VPSHEALTH_HOME", "/srv/vpshealth")
    settings = Settings()
    assert settings.connect_timeout == 2.5
    assert settings.max_concurrent_polls == 12
    assert settings.smtp_security == "tls"
    assert settings.home == Path("/srv/vpshealth")


def test_variable_names_are_not_case_sensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("vpshealth_smtp_host", "relay.example.net")
    assert Settings().smtp_host == "relay.example.net"


def test_constructor_values_win_over_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_RAW_RETENTION_HOURS", "100")
    assert Settings(raw_retention_hours=3).raw_retention_hours == 3


def test_unknown_variables_and_arguments_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_NO_SUCH_SETTING", "1")
    assert Settings(also_unknown=2).connect_timeout == 10.0


def test_a_bad_variable_is_reported_by_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_CONNECT_TIMEOUT", "soon")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"] == ("connect_timeout",)


def test_warning_must_not_be_above_critical(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_WARNING_PERCENT", "99")
    with pytest.raises(ValidationError, match="warning_percent must not be above"):
        Settings(critical_percent=90)

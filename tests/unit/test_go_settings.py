"""Choosing the check engine: VPSHEALTH_ENGINE and VPSHEALTH_GO_ENGINE_PATH."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vpshealth.cli.main import load_settings
from vpshealth.config import Settings, go_engine_path
from vpshealth.errors import EXIT_USAGE, ConfigurationError

CHECKOUT = Path(__file__).resolve().parents[2]


def test_the_python_engine_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VPSHEALTH_ENGINE", raising=False)
    monkeypatch.delenv("VPSHEALTH_GO_ENGINE_PATH", raising=False)
    settings = Settings(home=None)
    assert settings.engine == "python"
    assert go_engine_path(settings) == CHECKOUT / "engine-go" / "bin" / "vpshealth-engine"


def test_the_go_engine_where_the_variable_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_ENGINE", "go")
    monkeypatch.setenv("VPSHEALTH_GO_ENGINE_PATH", "/opt/vh/vpshealth-engine")
    settings = Settings()
    assert settings.engine == "go"
    assert go_engine_path(settings) == Path("/opt/vh/vpshealth-engine")


def test_a_bundle_looks_next_to_its_program(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VPSHEALTH_GO_ENGINE_PATH", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/vpshealth/vpshealth")
    assert go_engine_path(Settings()).parent == Path("/opt/vpshealth")


def test_another_engine_is_a_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_ENGINE", "rust")
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    message = str(raised.value)
    assert "VPSHEALTH_ENGINE" in message
    assert "'python' or 'go'" in message
    assert "\n" not in message
    assert raised.value.exit_code == EXIT_USAGE

"""E-mail settings: defaults, validation naming the field, environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpshealth.alerts.email_settings import Security, build_config, env_overrides, is_loopback
from vpshealth.config import Settings
from vpshealth.domain.containers import Severity
from vpshealth.errors import InputError

COMPLETE = {"smtp_host": "mail.example.com", "from": "vps@example.com", "to": ["me@example.com"]}


def test_defaults_and_what_is_missing() -> None:
    config = build_config({})
    assert (config.security, config.smtp_port) == (Security.STARTTLS, 587)
    assert config.min_severity is Severity.WARNING
    assert config.batch_seconds == 60
    assert config.max_per_host_per_hour == 10
    assert not config.configured
    assert config.problem is not None
    assert "--smtp-host, --from, --to" in config.problem


def test_complete_settings_are_configured() -> None:
    config = build_config({**COMPLETE, "security": "tls"})
    assert config.configured
    assert config.smtp_port == 465
    assert config.recipients == ("me@example.com",)
    assert config.sender_domain == "example.com"


def test_switched_off() -> None:
    config = build_config({**COMPLETE, "enabled": False})
    assert not config.configured
    assert "switched off" in (config.problem or "")


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("smtp_host", "bad host; rm", "email.smtp_host"),
        ("smtp_port", 70000, "email.smtp_port"),
        ("security", "ssl", "email.security"),
        ("from", "not-an-address", "email.from"),
        ("to", ["ok@example.com", "a@b\nBcc: x@y"], "email.to"),
        ("min_severity", "info", "email.min_severity"),
        ("batch_seconds", -1, "email.batch_seconds"),
        ("max_per_host_per_hour", 0, "email.max_per_host_per_hour"),
        ("user", "two words", "email.user"),
        ("ca_file", "/nonexistent/ca.pem", "email.ca_file"),
    ],
)
def test_a_bad_value_names_its_field(key: str, value: object, named: str) -> None:
    with pytest.raises(InputError, match=f"^invalid {named}: "):
        build_config({**COMPLETE, key: value})


def test_cli_option_names_in_errors() -> None:
    with pytest.raises(InputError, match=r"^invalid --smtp-port: "):
        build_config({"smtp_port": "x"}, field_names=True)


def test_no_encryption_only_for_a_server_on_this_computer() -> None:
    with pytest.raises(InputError, match=r"invalid email\.security: 'none'.*mail\.example\.com"):
        build_config({**COMPLETE, "security": "none"})
    config = build_config({**COMPLETE, "smtp_host": "127.0.0.1", "security": "none"})
    assert (config.security, config.smtp_port) == (Security.NONE, 25)
    with pytest.raises(InputError, match=r"invalid email\.user: a login is only ever sent encr"):
        build_config({**COMPLETE, "smtp_host": "::1", "security": "none", "user": "me"})
    assert is_loopback("localhost")
    assert is_loopback("::1")
    assert not is_loopback("10.0.0.1")


def test_environment_overrides_stored_values(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    settings = Settings(
        smtp_host="relay.example.net",
        smtp_port=2525,
        smtp_to="a@example.com, b@example.com",
        smtp_ca_file=ca,
    )
    env = env_overrides(settings)
    config = build_config({**COMPLETE, "smtp_port": 25}, env)
    assert config.smtp_host == "relay.example.net"
    assert config.smtp_port == 2525
    assert config.recipients == ("a@example.com", "b@example.com")
    assert config.ca_file == ca
    assert config.from_env == {"smtp_host", "smtp_port", "to", "ca_file"}


def test_a_bad_override_names_the_variable() -> None:
    env = env_overrides(Settings(smtp_to="nobody"))
    with pytest.raises(InputError, match=r"^invalid VPSHEALTH_SMTP_TO: "):
        build_config(COMPLETE, env)
    env = env_overrides(Settings(smtp_security="none"))
    with pytest.raises(InputError, match=r"^invalid VPSHEALTH_SMTP_SECURITY: 'none'"):
        build_config(COMPLETE, env)

"""E-mail settings: what is stored, where each value comes from, and storing changes (the
password in the secret store). Sending a test is the faces' own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vpshealth.alerts.email_settings import (
    ENV_OVERRIDES,
    OPTIONS,
    PASSWORD_REF,
    PREFIX,
    EmailConfig,
    EmailSettingError,
    build_config,
    env_overrides,
)
from vpshealth.clock import Clock
from vpshealth.config import Settings
from vpshealth.errors import ConfigurationError, InputError, VpsHealthError
from vpshealth.operations.errors import NOTHING_SAVED, NothingToChangeError
from vpshealth.secrets import SecretStore
from vpshealth.store.settings_repository import SettingsRepository


@dataclass(frozen=True, slots=True)
class EmailSetting:
    setting: str
    """``email.<key>``"""
    value: Any
    source: str
    """The environment variable that overrides it, ``stored`` or ``default``."""


@dataclass(frozen=True, slots=True)
class EmailSettingsView:
    problem: str | None
    """Why no e-mail is sent; None when it is set up."""
    settings: list[EmailSetting]
    password: str

    @property
    def configured(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class EmailSaved:
    config: EmailConfig
    changed: frozenset[str]
    """The keys (without ``email.``) that were given."""
    password_stored: bool


def setting_values(config: EmailConfig) -> dict[str, Any]:
    """The configuration as stored, by setting key (without the ``email.`` prefix)."""
    return {
        "smtp_host": config.smtp_host,
        "smtp_port": config.smtp_port,
        "security": config.security.value,
        "user": config.user,
        "from": config.sender,
        "to": list(config.recipients),
        "min_severity": config.min_severity.value,
        "batch_seconds": config.batch_seconds,
        "max_per_host_per_hour": config.max_per_host_per_hour,
        "ca_file": str(config.ca_file) if config.ca_file else None,
        "enabled": config.enabled,
    }


class EmailSettingsOperations:
    def __init__(
        self,
        stored: SettingsRepository,
        secrets: SecretStore,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._stored = stored
        self._secrets = secrets
        self._settings = settings
        self._clock = clock

    def show(self) -> EmailSettingsView:
        stored = self._stored.with_prefix(PREFIX)
        env = env_overrides(self._settings)
        problem: str | None
        try:
            config = build_config(stored, env)
            problem, valid = config.problem, True
        except InputError as exc:
            config = EmailConfig()
            problem, valid = str(exc).rstrip("."), False
        raw = {**stored, **env}
        rows = []
        for key, parsed in setting_values(config).items():
            # Settings that do not validate are shown as given, so the bad one can be seen.
            value = parsed if valid else raw.get(key, parsed)
            source = ENV_OVERRIDES[key] if key in env else "stored" if key in stored else "default"
            rows.append(EmailSetting(f"{PREFIX}{key}", value, source))
        return EmailSettingsView(problem, rows, self._password_state(config))

    def _password_state(self, config: EmailConfig) -> str:
        if not config.user:
            return "not needed (no user)"
        if self._settings.smtp_password is not None:
            return "set (VPSHEALTH_SMTP_PASSWORD)"
        try:
            found = self._secrets.get(PASSWORD_REF)
        except ConfigurationError:
            return "unknown (no usable OS keyring)"
        return "set (OS keyring)" if found else "not set"

    def change(
        self,
        changes: Mapping[str, Any],
        password: str | None = None,
        *,
        option_names: bool = False,
    ) -> EmailSaved:
        """Store the given settings (keys without ``email.``), each checked first with the
        stored ones; nothing is stored when one is not valid. ``option_names``: errors name
        the CLI's options instead of the settings."""
        if not changes and password is None:
            raise NothingToChangeError(f"Nothing to change in the e-mail settings. {NOTHING_SAVED}")
        stored = self._stored.with_prefix(PREFIX)
        try:
            config = build_config(
                {**stored, **changes}, env_overrides(self._settings), field_names=option_names
            )
        except EmailSettingError as exc:
            raise EmailSettingError(f"{exc} {NOTHING_SAVED}", exc.field) from None
        except InputError as exc:
            raise InputError(f"{exc} {NOTHING_SAVED}") from None
        if password is not None:
            self._secrets.put(PASSWORD_REF, password)
        values = setting_values(config)
        self._stored.update(
            {f"{PREFIX}{key}": values[key] for key in changes}, now=int(self._clock.now())
        )
        return EmailSaved(config, frozenset(changes), password is not None)

    def clear(self, keys: Iterable[str] | None = None) -> None:
        """No e-mail: remove the stored settings (``keys`` without ``email.``; None: every
        one) and the password, if a secret store is usable."""
        names = OPTIONS if keys is None else keys
        self._stored.update({f"{PREFIX}{key}": None for key in names}, now=int(self._clock.now()))
        with contextlib.suppress(VpsHealthError):
            self._secrets.delete(PASSWORD_REF)

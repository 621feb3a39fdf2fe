"""The e-mail channel's settings: stored ``email.*`` values, overridden by ``VPSHEALTH_SMTP_*``
environment variables, validated field by field. The password is never here: it lives in the
OS keyring under :data:`PASSWORD_REF` (or comes from ``VPSHEALTH_SMTP_PASSWORD``)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine

from vpshealth.config import Settings
from vpshealth.domain.containers import Severity
from vpshealth.errors import InputError
from vpshealth.secrets import SecretStore
from vpshealth.store.settings_repository import SettingsRepository

PREFIX: Final = "email."
PASSWORD_REF: Final = "smtp/password"  # noqa: S105 - a keyring reference

DEFAULT_PORTS: Final = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_BATCH_SECONDS: Final = 60
DEFAULT_MAX_PER_HOST_PER_HOUR: Final = 10
MAX_BATCH_SECONDS: Final = 3600

_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$"
)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_USER = re.compile(r"^[^\x00-\x20\x7f]{1,256}$")


class Security(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


# Setting key (after ``email.``) -> the environment variable that overrides it.
ENV_OVERRIDES: Final = {
    "smtp_host": "VPSHEALTH_SMTP_HOST",
    "smtp_port": "VPSHEALTH_SMTP_PORT",
    "security": "VPSHEALTH_SMTP_SECURITY",
    "user": "VPSHEALTH_SMTP_USER",
    "from": "VPSHEALTH_SMTP_FROM",
    "to": "VPSHEALTH_SMTP_TO",
    "ca_file": "VPSHEALTH_SMTP_CA_FILE",
}


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """Validated settings of the e-mail channel. ``configured`` is False while a server, a
    sender or a recipient is missing, or e-mail is switched off; ``problem`` says why."""

    smtp_host: str | None = None
    smtp_port: int = DEFAULT_PORTS["starttls"]
    security: Security = Security.STARTTLS
    user: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    min_severity: Severity = Severity.WARNING
    batch_seconds: int = DEFAULT_BATCH_SECONDS
    max_per_host_per_hour: int = DEFAULT_MAX_PER_HOST_PER_HOUR
    enabled: bool = True
    ca_file: Path | None = None
    from_env: frozenset[str] = field(default_factory=frozenset)

    @property
    def problem(self) -> str | None:
        if not self.enabled:
            return "e-mail is switched off (`vpshealth notify email --enable`)"
        missing = [
            option
            for option, value in (
                ("--smtp-host", self.smtp_host),
                ("--from", self.sender),
                ("--to", self.recipients),
            )
            if not value
        ]
        if missing:
            return f"e-mail is not set up: missing {', '.join(missing)} (`vpshealth notify email`)"
        return None

    @property
    def configured(self) -> bool:
        return self.problem is None

    @property
    def server(self) -> str:
        return f"{self.smtp_host}:{self.smtp_port}"

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2] if self.sender else "vpshealth.invalid"


# Setting key -> the `vpshealth notify email` option that sets it.
OPTIONS: Final = {
    "smtp_host": "--smtp-host",
    "smtp_port": "--smtp-port",
    "security": "--security",
    "user": "--user",
    "from": "--from",
    "to": "--to",
    "min_severity": "--min-severity",
    "batch_seconds": "--batch-seconds",
    "max_per_host_per_hour": "--max-per-host-per-hour",
    "ca_file": "--ca-file",
}


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class EmailSettingError(InputError):
    """A setting that is not valid; ``field`` is its key (without ``email.``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _fail(name: str, problem: str, field: str = "") -> EmailSettingError:
    return EmailSettingError(f"invalid {name}: {problem}.", field)


def _host(value: Any, name: str) -> str:
    text = str(value).strip()
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        if not _HOSTNAME.match(text):
            raise _fail(name, f"{text!r} is not a host name or IP address") from None
    return text.strip("[]")


def _port(value: Any, name: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise _fail(name, f"{value!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise _fail(name, f"{port} is not a port number (1-65535)")
    return port


def _address(value: Any, name: str) -> str:
    text = str(value).strip()
    if not _ADDRESS.match(text):
        raise _fail(name, f"{text!r} is not an e-mail address like alerts@example.com")
    return text


def _addresses(value: Any, name: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    found = tuple(_address(item, name) for item in items if str(item).strip())
    if not found:
        raise _fail(name, "give at least one e-mail address")
    return found


def _int_in(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _fail(name, f"{value!r} is not a whole number") from None
    if not low <= number <= high:
        raise _fail(name, f"{number} is outside {low}-{high}")
    return number


def _choice(value: Any, name: str, enum: type[StrEnum]) -> Any:
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        allowed = " | ".join(member.value for member in enum)
        raise _fail(name, f"{value!r}: use {allowed}") from None


def _user(value: Any, name: str) -> str:
    text = str(value)
    if not _USER.match(text):
        raise _fail(name, "use a user name without spaces or control characters")
    return text


def _ca_file(value: Any, name: str) -> Path:
    try:
        path = Path(str(value)).expanduser().absolute()
    except RuntimeError:  # ~user of a user that does not exist
        raise _fail(name, f"{value} names the home of an unknown user") from None
    try:
        readable = path.is_file()
    except OSError:  # e.g. a name too long for the filesystem
        readable = False
    if not readable:
        raise _fail(name, f"{path} is not a readable file (a PEM CA certificate)")
    return path


_PARSERS: Final[dict[str, tuple[str, Callable[[Any, str], Any]]]] = {
    "security": ("security", lambda v, n: _choice(v, n, Security)),
    "smtp_port": ("smtp_port", _port),
    "smtp_host": ("smtp_host", _host),
    "user": ("user", _user),
    "from": ("sender", _address),
    "to": ("recipients", _addresses),
    "min_severity": ("min_severity", lambda v, n: _choice(v, n, Severity)),
    "batch_seconds": ("batch_seconds", lambda v, n: _int_in(v, n, 0, MAX_BATCH_SECONDS)),
    "max_per_host_per_hour": ("max_per_host_per_hour", lambda v, n: _int_in(v, n, 1, 10_000)),
    "ca_file": ("ca_file", _ca_file),
}


def build_config(
    stored: Mapping[str, Any], env: Mapping[str, Any] | None = None, *, field_names: bool = False
) -> EmailConfig:
    """Merge stored values (keys without ``email.``) with environment overrides and validate.

    Raises :class:`InputError` naming the first bad field: as ``email.<key>`` or, for an
    override, its environment variable. ``field_names`` names fields as the CLI options.
    """
    env = env or {}
    values = dict(stored)
    sources = {key: f"email.{key}" for key in stored}
    for key, value in env.items():
        if value is not None:
            values[key] = value
            sources[key] = ENV_OVERRIDES[key]
    if field_names:
        sources = {
            key: source if source.startswith("VPSHEALTH_") else OPTIONS.get(key, source)
            for key, source in sources.items()
        }

    def has(key: str) -> bool:
        return values.get(key) not in (None, "", [])

    config: dict[str, Any] = {}
    for key, (attribute, parse) in _PARSERS.items():
        if has(key):
            try:
                config[attribute] = parse(values[key], sources[key])
            except EmailSettingError as exc:
                exc.field = key
                raise
    security: Security = config.get("security", Security.STARTTLS)
    config.setdefault("smtp_port", DEFAULT_PORTS[security.value])
    host = config.get("smtp_host")
    if host is not None and security is Security.NONE and not is_loopback(host):
        raise _fail(
            sources.get("security", "email.security"),
            f"'none' (no encryption) is only allowed for a server on this computer "
            f"(localhost), not {host}; use starttls or tls",
            "security",
        )
    if security is Security.NONE and config.get("user"):
        raise _fail(
            sources["user"],
            "a login is only ever sent encrypted; use --security starttls or tls, or leave "
            "out the user for a relay on this computer",
            "user",
        )
    if values.get("enabled") is not None:
        config["enabled"] = bool(values["enabled"])
    overridden = frozenset(key for key, value in env.items() if value is not None)
    return EmailConfig(**config, from_env=overridden)


def env_overrides(settings: Settings) -> dict[str, Any]:
    """The ``VPSHEALTH_SMTP_*`` values that are set, keyed like the stored settings."""
    found: dict[str, Any] = {
        "smtp_host": settings.smtp_host,
        "smtp_port": settings.smtp_port,
        "security": settings.smtp_security,
        "user": settings.smtp_user,
        "from": settings.smtp_from,
        "to": settings.smtp_to,
        "ca_file": settings.smtp_ca_file,
    }
    return {key: value for key, value in found.items() if value is not None}


def load_email_config(engine: Engine, settings: Settings) -> EmailConfig:
    """The effective configuration: the stored ``email.*`` values under the environment's
    overrides. Blocking (reads the database)."""
    return build_config(SettingsRepository(engine).with_prefix(PREFIX), env_overrides(settings))


def smtp_password(config: EmailConfig, settings: Settings, secrets: SecretStore) -> str | None:
    """``VPSHEALTH_SMTP_PASSWORD``, else the keyring's; None without a user. Blocking."""
    if not config.user:
        return None
    if settings.smtp_password is not None:
        return settings.smtp_password
    return secrets.get(PASSWORD_REF)

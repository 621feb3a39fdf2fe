"""Settings from the environment and where VPS Health keeps its files."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, model_validator

APP_NAME = "vpshealth"
ENV_PREFIX = "VPSHEALTH_"
LogKind = Literal["app", "service", "cli"]
"""The desktop app, the foreground service, and every other command."""


class Settings(BaseModel):
    """Every field can be set with a ``VPSHEALTH_<FIELD>`` environment variable (the name in
    any case); values given to the constructor win over the environment."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(), **values})

    home: Path | None = Field(
        default=None, description="Put config, database and logs under this one folder."
    )
    connect_timeout: float = Field(default=10.0, gt=0, le=300)
    command_timeout: float = Field(default=20.0, gt=0, le=600)
    max_concurrent_polls: int = Field(default=64, ge=1, le=10_000)
    max_channels_per_host: int = Field(default=8, ge=1, le=64)
    keepalive_interval: float = Field(default=30.0, gt=0)
    warning_percent: float = Field(
        default=85.0, gt=0, le=1000, description="CPU, memory or a disk at or above: warning"
    )
    critical_percent: float = Field(
        default=95.0, gt=0, le=1000, description="CPU, memory or a disk at or above: critical"
    )
    raw_retention_hours: float = Field(default=48.0, ge=2, le=24 * 365)
    minute_retention_days: float = Field(
        default=30.0, ge=1, le=3650, description="Keep 1-minute min/avg/max history this long."
    )
    hour_retention_days: float = Field(
        default=730.0, ge=1, le=36500, description="Keep 1-hour min/avg/max history this long."
    )
    live_check_retention_hours: float = Field(
        default=1.0,
        gt=0,
        le=48,
        description="Keep the live stream's check messages this long, for clients to resume.",
    )
    node_silence_alarm_seconds: float = Field(
        default=180.0,
        ge=5,
        le=7 * 86_400,
        description="A desktop following a node: one notification when the node has not "
        "answered for this long, one more when it is back.",
    )
    node_stall_hold_seconds: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="A node (`service --api`) that was stopped or suspended holds its new "
        "alerts this long, so that a desktop that took over can hand back first.",
    )
    restart_loop_count: int = Field(default=3, ge=2, le=1000)
    restart_loop_minutes: float = Field(default=10.0, gt=0, le=1440)
    key_passphrase: str | None = Field(default=None, repr=False)
    secret_store: Literal["keyring", "file"] = Field(
        default="keyring",
        description="keyring: the OS keyring; file: the sealed secrets file (headless nodes)",
    )
    secrets_passphrase_file: Path | None = Field(
        default=None,
        description="the file holding the passphrase of the sealed secrets file; default: the "
        "systemd credential or the Docker Compose secret",
    )
    secrets_dir: Path | None = Field(
        default=None,
        description="the folder of secret files; default: $CREDENTIALS_DIRECTORY, else "
        "/run/secrets",
    )
    # E-mail: each one overrides the stored `email.*` setting (headless set-ups).
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] | None = None
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_from: str | None = None
    smtp_to: str | None = Field(default=None, description="comma-separated addresses")
    smtp_ca_file: Path | None = Field(
        default=None, description="also trust this CA file (PEM) for the SMTP server"
    )
    # The node's HTTP API: off unless an address is given (`service --api` wins).
    api: str | None = Field(default=None, description="HOST:PORT the service's API listens on")
    api_tls_cert: Path | None = Field(default=None, description="TLS certificate (PEM) of the API")
    api_tls_key: Path | None = Field(default=None, description="TLS private key (PEM) of the API")
    metrics_open: bool = Field(
        default=False, description="serve /metrics without a token (Prometheus on a trusted net)"
    )
    engine: Literal["python", "go"] = Field(
        default="python",
        description="what runs the service's checks: python (built in) or go (the "
        "vpshealth-engine program, see VPSHEALTH_GO_ENGINE_PATH)",
    )
    go_engine_path: Path | None = Field(
        default=None,
        description="the vpshealth-engine program; default: next to the vpshealth program of "
        "a bundle, else engine-go/bin/vpshealth-engine of the source checkout",
    )

    @model_validator(mode="after")
    def _warning_below_critical(self) -> Settings:
        if self.warning_percent > self.critical_percent:
            raise ValueError("warning_percent must not be above critical_percent")
        return self


def _from_environment() -> dict[str, str]:
    fields = Settings.model_fields
    found: dict[str, str] = {}
    for name, value in os.environ.items():
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and (field := upper[len(ENV_PREFIX) :].lower()) in fields:
            found[field] = value
    return found


GO_ENGINE_NAME = "vpshealth-engine"


def go_engine_path(settings: Settings) -> Path:
    """Where the Go check engine is: the setting, else next to a frozen bundle's executable,
    else the source checkout's ``engine-go/bin`` (built by ``scripts/build-go-engine``)."""
    if settings.go_engine_path is not None:
        return settings.go_engine_path.expanduser()
    suffix = ".exe" if sys.platform == "win32" else ""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).parent / f"{GO_ENGINE_NAME}{suffix}"
    checkout = Path(__file__).resolve().parents[2]
    return checkout / "engine-go" / "bin" / f"{GO_ENGINE_NAME}{suffix}"


@dataclass(frozen=True, slots=True)
class Paths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "vpshealth.sqlite3"

    @property
    def node_copy_file(self) -> Path:
        """The desktop's copy of a node's database (same schema), kept in sync with it."""
        return self.data_dir / "node-copy.sqlite3"

    @property
    def engine_lock(self) -> Path:
        return self.data_dir / "engine.lock"

    def log_file(self, kind: LogKind) -> Path:
        """One file per kind of process, so that the app and the service never share one."""
        return self.log_dir / f"{kind}.log"

    @property
    def secrets_file(self) -> Path:
        """The sealed secrets of a headless node (``VPSHEALTH_SECRET_STORE=file``)."""
        return self.data_dir / "secrets.sealed"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @classmethod
    def from_settings(cls, settings: Settings) -> Paths:
        if settings.home is not None:
            home = settings.home.expanduser().absolute()
            return cls(home / "config", home / "data", home / "logs")
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    def ensure(self) -> None:
        """Create the folders private to the user (0700)."""
        for folder in (self.config_dir, self.data_dir, self.log_dir, self.backup_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(folder, 0o700)

"""The settings the dialog edits: their keys, defaults and validation. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vpshealth.domain.hosts import (
    DEFAULT_INTERVAL_SECONDS,
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    check_address,
)
from vpshealth.store.settings_keys import DESKTOP_MIN_SEVERITY_KEY

DEFAULT_INTERVAL_KEY = "checks.default_interval_seconds"
SECURITY_CHOICES = ("starttls", "tls", "none")
SEVERITY_CHOICES = ("warning", "critical")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class SettingsForm:
    smtp_host: str = ""
    smtp_port: str = "587"
    security: str = "starttls"
    user: str = ""
    sender: str = ""
    recipients: str = ""
    email_min_severity: str = "warning"
    desktop_min_severity: str = "warning"
    default_interval: str = str(DEFAULT_INTERVAL_SECONDS)
    password: str | None = field(default=None, repr=False)
    """None: leave the stored password as it is."""

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host.strip())


def split_addresses(text: str) -> list[str]:
    return [a for a in re.split(r"[,;\s]+", text) if a]


def form_from_settings(values: dict[str, Any]) -> SettingsForm:
    return SettingsForm(
        smtp_host=str(values.get("email.smtp_host") or ""),
        smtp_port=str(values.get("email.smtp_port") or 587),
        security=str(values.get("email.security") or "starttls"),
        user=str(values.get("email.user") or ""),
        sender=str(values.get("email.from") or ""),
        recipients=", ".join(values.get("email.to") or []),
        email_min_severity=str(values.get("email.min_severity") or "warning"),
        desktop_min_severity=str(values.get(DESKTOP_MIN_SEVERITY_KEY) or "warning"),
        default_interval=str(values.get(DEFAULT_INTERVAL_KEY) or DEFAULT_INTERVAL_SECONDS),
    )


def validate_settings(form: SettingsForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        interval = int(form.default_interval)
        if not MIN_INTERVAL_SECONDS <= interval <= MAX_INTERVAL_SECONDS:
            raise ValueError
    except ValueError:
        errors["default_interval"] = (
            f"Enter seconds between {MIN_INTERVAL_SECONDS} and {MAX_INTERVAL_SECONDS}."
        )
    if not form.email_enabled:
        return errors
    try:
        check_address(form.smtp_host.strip())
    except ValueError as exc:
        errors["smtp_host"] = str(exc).capitalize() + "."
    try:
        port = int(form.smtp_port)
        if not 1 <= port <= 65535:
            raise ValueError
    except ValueError:
        errors["smtp_port"] = "Enter a port between 1 and 65535 (usually 587, or 465 for TLS)."
    if form.security not in SECURITY_CHOICES:
        errors["security"] = "Choose STARTTLS, TLS or none."
    if form.user.strip() and form.security == "none":
        errors["security"] = (
            "A password is never sent unencrypted: choose STARTTLS or TLS, or leave the user empty."
        )
    if not _EMAIL.fullmatch(form.sender.strip()):
        errors["sender"] = "Enter the sender address, e.g. alerts@example.com."
    recipients = split_addresses(form.recipients)
    if not recipients:
        errors["recipients"] = "Enter at least one recipient."
    else:
        bad = [a for a in recipients if not _EMAIL.fullmatch(a)]
        if bad:
            errors["recipients"] = f"Not an e-mail address: {', '.join(bad)}."
    return errors


def settings_values(form: SettingsForm) -> dict[str, Any]:
    """The rows to write (None removes a key). E-mail settings go when no server is given."""
    email = form.email_enabled
    return {
        "email.smtp_host": form.smtp_host.strip() if email else None,
        "email.smtp_port": int(form.smtp_port) if email else None,
        "email.security": form.security if email else None,
        "email.user": (form.user.strip() or None) if email else None,
        "email.from": form.sender.strip() if email else None,
        "email.to": split_addresses(form.recipients) if email else None,
        "email.min_severity": form.email_min_severity if email else None,
        DESKTOP_MIN_SEVERITY_KEY: form.desktop_min_severity,
        DEFAULT_INTERVAL_KEY: int(form.default_interval),
    }

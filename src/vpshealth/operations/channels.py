"""Alert channels: add, list, show, change, remove, test. A channel is a named Apprise URL;
the URL goes to the secret store, the row keeps its masked form. Every value is checked
before anything is written, and the writes are ordered so that a failure leaves nothing: the
secret first (a keyring that refuses it stops here), then the row (a name taken meanwhile
takes the secret back out)."""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from vpshealth.alerts.apprise_channel import channel_url
from vpshealth.alerts.apprise_sender import send_apprise
from vpshealth.alerts.apprise_urls import AppriseUrlError, CheckedUrl, check_url
from vpshealth.alerts.channel import DeliveryError
from vpshealth.alerts.short_message import render_short
from vpshealth.clock import Clock
from vpshealth.domain.channels import (
    DEFAULT_BATCH_SECONDS,
    DEFAULT_MAX_PER_HOST_PER_HOUR,
    MAX_BATCH_SECONDS,
    MAX_PER_HOST_PER_HOUR,
    ChannelRecord,
    check_channel_name,
)
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.errors import EXIT_NOT_OK, VpsHealthError
from vpshealth.operations.errors import NOTHING_SAVED, ConflictError, FieldError, NotFoundError
from vpshealth.secrets import SecretStore
from vpshealth.store.channel_repository import ChannelExistsError, ChannelRepository, NewChannel

SECRET_PREFIX: Final = "channel/"  # noqa: S105 - a keyring reference
CHANGEABLE: Final = frozenset(
    {"url", "min_severity", "enabled", "batch_seconds", "max_per_host_per_hour"}
)

Send = Callable[[str, str, str, str | None], None]


class ChannelSendError(VpsHealthError):
    """The test message did not go through."""

    exit_code = EXIT_NOT_OK


@dataclass(frozen=True, slots=True)
class ChannelTestSent:
    channel: ChannelRecord
    title: str


def _field_error(name: str, field: str, problem: str, value: object = None) -> FieldError:
    """One line naming the channel and the field; a URL is never repeated (it is a secret)."""
    shown = "" if value is None else f" {value!r}"
    return FieldError(
        field,
        problem,
        wording=f"channel {name}: invalid {{label}}{shown}: {problem}. {NOTHING_SAVED}",
    )


def checked_url(name: str, url: Any) -> CheckedUrl:
    if not isinstance(url, str) or not url.strip():
        raise _field_error(name, "url", "give the Apprise URL of the service")
    try:
        return check_url(url)
    except AppriseUrlError as exc:
        raise _field_error(name, "url", str(exc).rstrip(".")) from None


def _severity(name: str, value: Any) -> Severity:
    try:
        return Severity(str(value).strip().lower())
    except ValueError:
        raise _field_error(name, "min_severity", "use warning or critical", value) from None


def _whole(name: str, field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _field_error(name, field, f"use a whole number from {low} to {high}", value)
    try:
        number = int(value)
    except ValueError:
        raise _field_error(name, field, f"use a whole number from {low} to {high}", value) from None
    if not low <= number <= high:
        raise _field_error(name, field, f"use a whole number from {low} to {high}", value)
    return number


def _name(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    try:
        return check_channel_name(text)
    except ValueError as exc:
        raise FieldError("name", str(exc), value=text) from None


def test_notification(name: str, now: int) -> Notification:
    return Notification(
        kind=NotificationKind.TEST,
        severity=Severity.WARNING,
        host_name=socket.gethostname() or "this computer",
        host_address="",
        rule="test",
        subject="test",
        title=f"test message for channel {name}",
        message="This is a test from VPS Health. If you can read it, alerts reach you here.",
        since=now,
        at=now,
    )


class ChannelOperations:
    def __init__(
        self,
        repository: ChannelRepository,
        secrets: SecretStore,
        clock: Clock,
        *,
        send: Send = send_apprise,
    ) -> None:
        self._repository = repository
        self._secrets = secrets
        self._clock = clock
        self._send = send

    def list(self) -> list[ChannelRecord]:
        return self._repository.list()

    def get(self, name: str) -> ChannelRecord:
        found = self._repository.get(name)
        if found is None:
            raise self.missing(name)
        return found

    def add(
        self,
        name: str,
        url: str,
        *,
        min_severity: Any = Severity.WARNING,
        enabled: bool = True,
        batch_seconds: Any = DEFAULT_BATCH_SECONDS,
        max_per_host_per_hour: Any = DEFAULT_MAX_PER_HOST_PER_HOUR,
    ) -> ChannelRecord:
        """Raises FieldError (the URL malformed or of an unknown service, a bad value),
        ConflictError (the name is taken) or the secret store's error; nothing is saved then."""
        name = _name(name)
        checked = checked_url(name, url)
        new = NewChannel(
            name=name,
            service=checked.service,
            masked_url=checked.masked,
            secret_ref=f"{SECRET_PREFIX}{uuid.uuid4()}",
            min_severity=_severity(name, min_severity),
            enabled=bool(enabled),
            batch_seconds=_whole(name, "batch_seconds", batch_seconds, 0, MAX_BATCH_SECONDS),
            max_per_host_per_hour=_whole(
                name, "max_per_host_per_hour", max_per_host_per_hour, 1, MAX_PER_HOST_PER_HOUR
            ),
            created_at=int(self._clock.now()),
        )
        if self._repository.get(name) is not None:
            raise self._taken(name)
        self._secrets.put(new.secret_ref, checked.url)
        try:
            return self._repository.add(new)
        except ChannelExistsError:
            self._forget(new.secret_ref)
            raise self._taken(name) from None
        except BaseException:
            self._forget(new.secret_ref)
            raise

    def change(self, name: str, changes: Mapping[str, Any]) -> ChannelRecord:
        """Change a channel's URL, minimum severity, switch, batching or rate limit; a
        channel cannot be renamed (its deliveries are its own). Every value is checked first."""
        record = self.get(name)
        unknown = sorted(set(changes) - CHANGEABLE)
        if unknown:
            problem = (
                "a channel cannot be renamed; remove it and add it under the new name"
                if unknown[0] == "name"
                else "not a setting of a channel"
            )
            raise _field_error(name, unknown[0], problem)
        values: dict[str, Any] = {}
        checked = None
        if changes.get("url") is not None:
            checked = checked_url(name, changes["url"])
            values |= {"service": checked.service, "masked_url": checked.masked}
        if changes.get("min_severity") is not None:
            values["min_severity"] = _severity(name, changes["min_severity"])
        if changes.get("enabled") is not None:
            if not isinstance(changes["enabled"], bool):
                raise _field_error(name, "enabled", "use true or false", changes["enabled"])
            values["enabled"] = changes["enabled"]
        if changes.get("batch_seconds") is not None:
            values["batch_seconds"] = _whole(
                name, "batch_seconds", changes["batch_seconds"], 0, MAX_BATCH_SECONDS
            )
        if changes.get("max_per_host_per_hour") is not None:
            values["max_per_host_per_hour"] = _whole(
                name,
                "max_per_host_per_hour",
                changes["max_per_host_per_hour"],
                1,
                MAX_PER_HOST_PER_HOUR,
            )
        if checked is not None:
            self._secrets.put(record.secret_ref, checked.url)
        changed = self._repository.update(name, values)
        if changed is None:
            raise self.missing(name)
        return changed

    def set_enabled(self, name: str, enabled: bool) -> ChannelRecord:
        return self.change(name, {"enabled": enabled})

    def remove(self, name: str) -> ChannelRecord:
        """The row, its URL in the secret store, and its messages not sent yet (failed)."""
        record = self.get(name)
        self._repository.remove(record, reason=f"the channel {name} was removed")
        self._forget(record.secret_ref)
        return record

    def test(self, name: str) -> ChannelTestSent:
        """Send a test message now, not through the outbox (also when the channel is
        switched off). Raises ChannelSendError with the service's reason."""
        record = self.get(name)
        now = int(self._clock.now())
        message = render_short([test_notification(name, now)], now)
        try:
            url = channel_url(self._secrets, record)
            self._send(url, message.title, message.body, message.level.value)
        except DeliveryError as exc:
            raise ChannelSendError(f"channel {name}: the test was not sent: {exc}") from None
        return ChannelTestSent(record, message.title)

    def missing(self, name: str) -> NotFoundError:
        return NotFoundError(
            f"no channel named {name!r}; `vpshealth notify channel list` shows them"
        )

    def _taken(self, name: str) -> ConflictError:
        return ConflictError(
            f"channel {name}: a channel of that name exists; remove it first or choose another "
            f"name. {NOTHING_SAVED}"
        )

    def _forget(self, ref: str) -> None:
        with contextlib.suppress(VpsHealthError):
            self._secrets.delete(ref)

"""A durable delivery channel: what the delivery worker needs of one (its settings, a digest
rendered as one message, and delivering that message), so that adding a channel is one module
that implements :class:`Channel` plus its settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification
from vpshealth.store.outbox_repository import OutboxDraft, OutboxMessage


class DeliveryError(Exception):
    """A failed delivery, described for the person reading the log or the terminal.
    ``permanent``: the receiving end rejected this message itself; sending it again cannot
    help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ChannelSettings(Protocol):
    """A channel's settings as read for one step of its worker."""

    @property
    def problem(self) -> str | None:
        """Why the channel cannot be used now (not set up, switched off); None when it can."""

    @property
    def min_severity(self) -> Severity: ...

    @property
    def batch_seconds(self) -> int: ...

    @property
    def max_per_host_per_hour(self) -> int: ...


SettingsT = TypeVar("SettingsT", bound=ChannelSettings)


@dataclass(frozen=True, slots=True)
class Digest:
    """The notifications that travel in one message. ``held_back``: per server name, the
    notifications the rate limit of ``limit_per_hour`` held back in the last hour."""

    notifications: Sequence[Notification]
    now: float
    held_back: Mapping[str, int] = field(default_factory=dict)
    limit_per_hour: int = 0


class Channel(Protocol[SettingsT]):
    @property
    def name(self) -> str:
        """The key of its outbox messages and delivery rows: stored, so never renamed."""

    @property
    def label(self) -> str:
        """What log lines call one of its messages: "Queued <label> 12 for <audience>"."""

    def load_settings(self) -> SettingsT:
        """Blocking (reads the database). Raises ``VpsHealthError`` naming a bad field."""

    def audience(self, settings: SettingsT) -> str:
        """Whom its messages reach, for the log."""

    def render(self, settings: SettingsT, digest: Digest) -> OutboxDraft:
        """Pure: the message to queue."""

    async def deliver(self, settings: SettingsT, message: OutboxMessage) -> str:
        """Deliver one queued message; returns what the log says after "Sent <label> <id>".
        Raises :class:`DeliveryError` (or ``VpsHealthError``) when it was not delivered."""

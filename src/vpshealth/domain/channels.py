"""An alert channel: a named Apprise URL with its own minimum severity, switched on or off.
The URL itself is a secret and never part of this model: the record keeps a reference to it
in the secret store and the masked form that may be shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vpshealth.domain.containers import Severity
from vpshealth.domain.hosts import check_name

DELIVERY_KEY_PREFIX: Final = "apprise:"
DEFAULT_BATCH_SECONDS: Final = 60
DEFAULT_MAX_PER_HOST_PER_HOUR: Final = 10
MAX_BATCH_SECONDS: Final = 3600
MAX_PER_HOST_PER_HOUR: Final = 10_000

check_channel_name = check_name
"""Channel names follow the rules of host names."""


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """A stored channel. ``delivery_key`` is the outbox's and the delivery rows' channel key:
    ``apprise:<id>``, so that a channel removed and added again under the same name starts
    afresh instead of taking on the old one's backlog."""

    id: int
    name: str
    service: str
    """Apprise's name of the service (``ntfy``, ``Telegram``, ``JSON``)."""
    masked_url: str
    secret_ref: str
    min_severity: Severity
    enabled: bool
    batch_seconds: int
    max_per_host_per_hour: int
    created_at: int

    @property
    def delivery_key(self) -> str:
        return f"{DELIVERY_KEY_PREFIX}{self.id}"

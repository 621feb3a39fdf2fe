"""An alert channel (a named Apprise URL) as a durable channel: its digests are short messages
(``short_message``), its URL comes from the secret store at every delivery, and its row is
read at every step of its worker, so a change of severity or a switch-off applies at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from vpshealth.alerts.apprise_sender import send_apprise
from vpshealth.alerts.channel import DeliveryError, Digest
from vpshealth.alerts.short_message import render_short
from vpshealth.domain.channels import ChannelRecord
from vpshealth.domain.containers import Severity
from vpshealth.errors import VpsHealthError
from vpshealth.secrets import SecretStore
from vpshealth.store.channel_repository import ChannelRepository
from vpshealth.store.outbox_repository import OutboxDraft, OutboxMessage

Send = Callable[[str, str, str, str | None], None]
"""(url, title, body, level): blocking, raises DeliveryError."""


@dataclass(frozen=True, slots=True)
class AppriseSettings:
    record: ChannelRecord
    removed: bool = False

    @property
    def problem(self) -> str | None:
        if self.removed:
            return f"the channel {self.record.name} was removed"
        if not self.record.enabled:
            return (
                f"the channel {self.record.name} is switched off "
                f"(`vpshealth notify channel enable {self.record.name}`)"
            )
        return None

    @property
    def min_severity(self) -> Severity:
        return self.record.min_severity

    @property
    def batch_seconds(self) -> int:
        return self.record.batch_seconds

    @property
    def max_per_host_per_hour(self) -> int:
        return self.record.max_per_host_per_hour


def channel_url(secrets: SecretStore, record: ChannelRecord) -> str:
    """Blocking. Raises DeliveryError when the secret store lost the URL."""
    url = secrets.get(record.secret_ref)
    if not url:
        raise DeliveryError(
            f"the URL of channel {record.name} is not in {secrets.where}; remove the channel "
            f"and add it again",
            permanent=True,
        )
    return url


class AppriseChannel:
    def __init__(
        self,
        repository: ChannelRepository,
        record: ChannelRecord,
        secrets: SecretStore,
        *,
        send: Send = send_apprise,
    ) -> None:
        self._repository = repository
        self._record = record
        self._secrets = secrets
        self._send = send

    @property
    def name(self) -> str:
        return self._record.delivery_key

    @property
    def label(self) -> str:
        return f"{self._record.name} message"

    def load_settings(self) -> AppriseSettings:
        found = self._repository.by_id(self._record.id)
        if found is None:
            return AppriseSettings(self._record, removed=True)
        self._record = found
        return AppriseSettings(found)

    def audience(self, settings: AppriseSettings) -> str:
        return settings.record.masked_url

    def render(self, settings: AppriseSettings, digest: Digest) -> OutboxDraft:
        message = render_short(
            digest.notifications,
            digest.now,
            held_back=digest.held_back,
            limit_per_hour=digest.limit_per_hour,
        )
        return OutboxDraft(
            channel=self.name,
            message_id=f"<{uuid.uuid4()}@{self.name.replace(':', '-')}.vpshealth>",
            subject=message.title,
            body_text=message.body,
            body_html=None,
            recipients=(settings.record.masked_url,),
            level=message.level.value,
        )

    async def deliver(self, settings: AppriseSettings, message: OutboxMessage) -> str:
        record = settings.record
        try:
            url = await asyncio.to_thread(channel_url, self._secrets, record)
        except VpsHealthError as exc:
            raise DeliveryError(str(exc)) from None
        await asyncio.to_thread(self._send, url, message.subject, message.body_text, message.level)
        return f"to {record.masked_url} ({record.service})"

"""E-mail as a durable channel: digests rendered by ``digest``, sent over SMTP with the
``email.*`` settings and the password from the keyring."""

from __future__ import annotations

import asyncio
import ssl
from email.utils import make_msgid
from typing import Protocol

from sqlalchemy import Engine

from vpshealth.alerts.channel import Digest
from vpshealth.alerts.digest import render_digest
from vpshealth.alerts.email_settings import EmailConfig, load_email_config, smtp_password
from vpshealth.alerts.outgoing_mail import DEFAULT_TIMEOUT, OutgoingMessage, tls_context
from vpshealth.config import Settings
from vpshealth.secrets import SecretStore
from vpshealth.store.outbox_repository import OutboxDraft, OutboxMessage


class Send(Protocol):
    async def __call__(
        self,
        config: EmailConfig,
        password: str | None,
        context: ssl.SSLContext,
        outgoing: OutgoingMessage,
        *,
        timeout: float = ...,
    ) -> str: ...


class EmailChannel:
    name = "email"
    label = "e-mail"

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        secrets: SecretStore,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        send: Send | None = None,
    ) -> None:
        """``send`` delivers one message (tests replace it to produce faults on demand); by
        default ``smtp_sender.deliver``, loaded with the SMTP client when the first message is
        sent (most services never send e-mail)."""
        self._engine = engine
        self._settings = settings
        self._secrets = secrets
        self._timeout = timeout
        self._send = send

    def load_settings(self) -> EmailConfig:
        return load_email_config(self._engine, self._settings)

    def audience(self, settings: EmailConfig) -> str:
        return ", ".join(settings.recipients)

    def render(self, settings: EmailConfig, digest: Digest) -> OutboxDraft:
        rendered = render_digest(
            digest.notifications,
            digest.now,
            held_back=digest.held_back,
            limit_per_hour=digest.limit_per_hour,
        )
        return OutboxDraft(
            channel=self.name,
            message_id=make_msgid(domain=settings.sender_domain),
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            recipients=settings.recipients,
        )

    async def deliver(self, settings: EmailConfig, message: OutboxMessage) -> str:
        password = await asyncio.to_thread(smtp_password, settings, self._settings, self._secrets)
        context = await asyncio.to_thread(tls_context, settings)
        answer = await self._sender()(
            settings,
            password,
            context,
            OutgoingMessage(
                message_id=message.message_id,
                subject=message.subject,
                text=message.body_text,
                html=message.body_html,
                recipients=message.recipients,
                date=message.created_at,
            ),
            timeout=self._timeout,
        )
        return f"to {', '.join(message.recipients)} via {settings.server}: {answer}"

    def _sender(self) -> Send:
        if self._send is None:
            from vpshealth.alerts.smtp_sender import deliver  # noqa: PLC0415

            self._send = deliver
        return self._send

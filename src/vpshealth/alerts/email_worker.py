"""The e-mail channel's background task: every couple of seconds it turns pending
notifications into digest messages in the outbox, and sends the outbox messages that are due,
backing off while the server cannot be reached.

All SQLite and keyring work runs in worker threads (``asyncio.to_thread``), never on the event
loop. While e-mail is not configured (or switched off, or its settings are invalid), pending
notifications are marked ``skipped`` instead of being kept: a digest written days later, when
e-mail is finally set up, would announce stale and long-resolved problems, and the queue would
grow without bound; the incidents themselves stay in the database either way."""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine

from vpshealth.alerts.batcher import CHANNEL, plan_claim
from vpshealth.alerts.email_settings import EmailConfig, load_email_config, smtp_password
from vpshealth.alerts.outgoing_mail import DEFAULT_TIMEOUT, OutgoingMessage, SmtpError, tls_context
from vpshealth.clock import Clock
from vpshealth.config import Settings
from vpshealth.errors import VpsHealthError
from vpshealth.secrets import SecretStore
from vpshealth.store.notification_queue import NotificationQueue
from vpshealth.store.outbox_repository import OutboxMessage, OutboxRepository

log = logging.getLogger(__name__)

STEP_SECONDS = 2.0


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


SEND_BATCH = 20


@dataclass(frozen=True, slots=True)
class Backoff:
    """After the n-th failed attempt, wait ``first * 2**(n-1)`` seconds, at most ``cap``; a
    message still not accepted ``give_up_after`` seconds after it was queued is failed."""

    first: int = 30
    cap: int = 15 * 60
    give_up_after: int = 24 * 3600

    def delay(self, attempts: int) -> int:
        return int(min(self.first * 2 ** max(attempts - 1, 0), self.cap))

    def expired(self, created_at: int, now: int) -> bool:
        return now >= created_at + self.give_up_after


class EmailWorker:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        secrets: SecretStore,
        clock: Clock,
        *,
        step_seconds: float = STEP_SECONDS,
        backoff: Backoff | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        send: Send | None = None,
    ) -> None:
        """``send`` delivers one message (tests replace it to produce faults on demand); by
        default ``smtp_sender.deliver``, loaded with the SMTP client when the first message is
        sent (most services never send e-mail)."""
        self._engine = engine
        self._settings = settings
        self._secrets = secrets
        self._clock = clock
        self._step_seconds = step_seconds
        self._backoff = backoff or Backoff()
        self._timeout = timeout
        self._send = send
        self._queue = NotificationQueue(engine)
        self._outbox = OutboxRepository(engine)
        self._reported_problem: str | None = None

    async def run(self) -> None:
        """Until cancelled. A failing step is logged and tried again on the next one."""
        while True:
            try:
                await self.step()
            except Exception:
                log.exception("The e-mail worker failed a step; trying again shortly")
            await self._clock.sleep(self._step_seconds)

    async def step(self) -> None:
        config = await asyncio.to_thread(self._current_config)
        if config is None:
            skipped = await asyncio.to_thread(self._queue.skip_pending)
            if skipped:
                log.debug("E-mail not usable: %d notification(s) not e-mailed", skipped)
            return
        now = int(self._clock.now())
        outbox_id = await asyncio.to_thread(
            self._queue.claim, now, functools.partial(plan_claim, config=config, now=now)
        )
        if outbox_id is not None:
            log.info("Queued e-mail %d for %s", outbox_id, ", ".join(config.recipients))
        await self.send_due(config, now)

    def _current_config(self) -> EmailConfig | None:
        """The configuration when e-mail can be used; else None, with the reason logged
        once."""
        try:
            config = load_email_config(self._engine, self._settings)
            problem = config.problem
        except VpsHealthError as exc:
            problem = f"the e-mail settings are not usable: {exc}"
            config = None
            level = logging.ERROR
        else:
            level = logging.INFO
        if problem != self._reported_problem:
            if problem is not None:
                log.log(level, "Not sending e-mail: %s", problem)
            elif self._reported_problem is not None:
                log.info("E-mail alerts are set up")
            self._reported_problem = problem
        return config if problem is None else None

    async def send_due(self, config: EmailConfig, now: int) -> None:
        """Send due messages oldest first; stop at the first that fails for a reason other
        than the message itself (the server is down: the others would fail the same way)."""
        due = await asyncio.to_thread(self._outbox.due, now, CHANNEL, SEND_BATCH)
        for message in due:
            failure = await self._attempt(config, message, now)
            if failure is not None and not failure.permanent:
                break

    def _sender(self) -> Send:
        if self._send is None:
            from vpshealth.alerts.smtp_sender import deliver  # noqa: PLC0415

            self._send = deliver
        return self._send

    async def _attempt(
        self, config: EmailConfig, message: OutboxMessage, now: int
    ) -> SmtpError | None:
        retry_at = now + self._backoff.delay(message.attempts + 1)
        await asyncio.to_thread(self._outbox.begin_attempt, message.id, retry_at)
        try:
            password = await asyncio.to_thread(smtp_password, config, self._settings, self._secrets)
            context = await asyncio.to_thread(tls_context, config)
            answer = await self._sender()(
                config,
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
        except (SmtpError, VpsHealthError) as exc:
            failure = exc if isinstance(exc, SmtpError) else SmtpError(str(exc))
            await self._record_failure(message, failure, now, retry_at)
            return failure
        await asyncio.to_thread(self._outbox.mark_sent, message.id, int(self._clock.now()))
        log.info(
            "Sent e-mail %d %r to %s via %s: %s",
            message.id,
            message.subject,
            ", ".join(message.recipients),
            config.server,
            answer,
        )
        return None

    async def _record_failure(
        self, message: OutboxMessage, failure: SmtpError, now: int, retry_at: int
    ) -> None:
        give_up = failure.permanent or self._backoff.expired(message.created_at, now)
        await asyncio.to_thread(
            self._outbox.record_failure, message.id, str(failure), give_up=give_up
        )
        if give_up:
            log.error(
                "Gave up on e-mail %d %r after %d attempt(s): %s",
                message.id,
                message.subject,
                message.attempts + 1,
                failure,
            )
        else:
            log.warning(
                "Could not send e-mail %d (attempt %d, next in %d s): %s",
                message.id,
                message.attempts + 1,
                retry_at - now,
                failure,
            )

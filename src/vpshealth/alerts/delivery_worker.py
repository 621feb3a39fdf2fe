"""A durable channel's background task: every couple of seconds it turns the channel's pending
notifications into digest messages in the outbox, and delivers the outbox messages that are
due, backing off while the receiving end cannot be reached. One worker per channel: a channel
that fails retries on its own schedule and holds up no other.

All SQLite and keyring work runs in worker threads (``asyncio.to_thread``), never on the event
loop. While the channel is not configured (or switched off, or its settings are invalid),
pending notifications are marked ``skipped`` instead of being kept: a digest written days
later, when the channel is finally set up, would announce stale and long-resolved problems,
and the queue would grow without bound; the incidents themselves stay in the database either
way."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import Generic

from sqlalchemy import Engine

from vpshealth.alerts.batcher import plan_claim
from vpshealth.alerts.channel import Channel, DeliveryError, SettingsT
from vpshealth.clock import Clock
from vpshealth.errors import VpsHealthError
from vpshealth.store.notification_queue import NotificationQueue
from vpshealth.store.outbox_repository import OutboxMessage, OutboxRepository

log = logging.getLogger(__name__)

STEP_SECONDS = 2.0
SEND_BATCH = 20


@dataclass(frozen=True, slots=True)
class Backoff:
    """After the n-th failed attempt, wait ``first * 2**(n-1)`` seconds, at most ``cap``; a
    message still not delivered ``give_up_after`` seconds after it was queued is failed."""

    first: int = 30
    cap: int = 15 * 60
    give_up_after: int = 24 * 3600

    def delay(self, attempts: int) -> int:
        return int(min(self.first * 2 ** max(attempts - 1, 0), self.cap))

    def expired(self, created_at: int, now: int) -> bool:
        return now >= created_at + self.give_up_after


class DeliveryWorker(Generic[SettingsT]):
    def __init__(
        self,
        engine: Engine,
        channel: Channel[SettingsT],
        clock: Clock,
        *,
        step_seconds: float = STEP_SECONDS,
        backoff: Backoff | None = None,
        since: int = 0,
    ) -> None:
        """A channel new to the database takes on the notifications raised from ``since``
        on: 0 (all of them) unless the channel was added to a database that already has a
        history, which it should not announce."""
        self._channel = channel
        self._clock = clock
        self._step_seconds = step_seconds
        self._backoff = backoff or Backoff()
        self._queue = NotificationQueue(engine, channel.name, since=since)
        self._outbox = OutboxRepository(engine)
        self._reported_problem: str | None = None

    @property
    def name(self) -> str:
        return self._channel.name

    async def run(self) -> None:
        """Until cancelled. A failing step is logged and tried again on the next one."""
        while True:
            try:
                await self.step()
            except Exception:
                log.exception(
                    "The %s worker failed a step; trying again shortly", self._channel.label
                )
            await self._clock.sleep(self._step_seconds)

    async def step(self) -> None:
        settings = await asyncio.to_thread(self._current_settings)
        if settings is None:
            skipped = await asyncio.to_thread(self._queue.skip_pending)
            if skipped:
                log.debug(
                    "%s not usable: %d notification(s) not sent", self._channel.label, skipped
                )
            return
        now = int(self._clock.now())
        render = functools.partial(self._channel.render, settings)
        outbox_id = await asyncio.to_thread(
            self._queue.claim,
            now,
            functools.partial(plan_claim, config=settings, now=now, render=render),
        )
        if outbox_id is not None:
            log.info(
                "Queued %s %d for %s",
                self._channel.label,
                outbox_id,
                self._channel.audience(settings),
            )
        await self.send_due(settings, now)

    def _current_settings(self) -> SettingsT | None:
        """The settings when the channel can be used; else None, with the reason logged
        once."""
        label = self._channel.label
        found: SettingsT | None
        try:
            found = self._channel.load_settings()
            problem = found.problem
        except VpsHealthError as exc:
            problem = f"the {label} settings are not usable: {exc}"
            found = None
            level = logging.ERROR
        else:
            level = logging.INFO
        if problem != self._reported_problem:
            if problem is not None:
                log.log(level, "Not sending %s: %s", label, problem)
            elif self._reported_problem is not None:
                log.info("%s alerts are set up", label[:1].upper() + label[1:])
            self._reported_problem = problem
        return found if problem is None else None

    async def send_due(self, settings: SettingsT, now: int) -> None:
        """Deliver due messages oldest first; stop at the first that fails for a reason other
        than the message itself (the receiver is down: the others would fail the same way)."""
        due = await asyncio.to_thread(self._outbox.due, now, self._channel.name, SEND_BATCH)
        for message in due:
            failure = await self._attempt(settings, message, now)
            if failure is not None and not failure.permanent:
                break

    async def _attempt(
        self, settings: SettingsT, message: OutboxMessage, now: int
    ) -> DeliveryError | None:
        retry_at = now + self._backoff.delay(message.attempts + 1)
        await asyncio.to_thread(self._outbox.begin_attempt, message.id, retry_at)
        try:
            outcome = await self._channel.deliver(settings, message)
        except (DeliveryError, VpsHealthError) as exc:
            failure = exc if isinstance(exc, DeliveryError) else DeliveryError(str(exc))
            await self._record_failure(message, failure, now, retry_at)
            return failure
        await asyncio.to_thread(self._outbox.mark_sent, message.id, int(self._clock.now()))
        log.info("Sent %s %d %r %s", self._channel.label, message.id, message.subject, outcome)
        return None

    async def _record_failure(
        self, message: OutboxMessage, failure: DeliveryError, now: int, retry_at: int
    ) -> None:
        give_up = failure.permanent or self._backoff.expired(message.created_at, now)
        await asyncio.to_thread(
            self._outbox.record_failure, message.id, str(failure), give_up=give_up
        )
        label = self._channel.label
        if give_up:
            log.error(
                "Gave up on %s %d %r after %d attempt(s): %s",
                label,
                message.id,
                message.subject,
                message.attempts + 1,
                failure,
            )
        else:
            log.warning(
                "Could not send %s %d (attempt %d, next in %d s): %s",
                label,
                message.id,
                message.attempts + 1,
                retry_at - now,
                failure,
            )

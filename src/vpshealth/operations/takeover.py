"""Taking over the checks while the node is silent, and handing them back (the setting
``node.take_over``, off by default). Watches the follower's status: once the silence alarm
went off it starts this computer's own check service (``TakeoverChecks``); once the node
answers again it stops that service first, then tells the node what it saw and told of
(``POST /api/v1/sync/handback``), retrying until the node took it. See docs/sync.md."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import httpx
from sqlalchemy import Engine

from vpshealth.clock import Clock
from vpshealth.domain.notifications import Notification, Notifier, show_each
from vpshealth.domain.takeover import HandedBack, TakeoverPlan, handed_back, took_over
from vpshealth.sync.follower import FollowerStatus

log = logging.getLogger(__name__)

WATCH_SECONDS = 1.0
HANDBACK_RETRY_SECONDS = 5.0
HANDBACK_PATH = "/api/v1/sync/handback"


class TakeoverChecks(Protocol):
    def prepare(self, copy: Engine) -> TakeoverPlan: ...

    async def run(self) -> None: ...

    def stop(self) -> None: ...

    def handed_back(self) -> list[HandedBack]: ...

    def close(self) -> None: ...


HandBack = Callable[[list[HandedBack]], Awaitable[None]]
"""Sends the hand-back to the node; raises when it could not."""


class TakeoverSupervisor:
    def __init__(
        self,
        *,
        node: str,
        copy: Engine,
        checks: Callable[[], TakeoverChecks],
        enabled: Callable[[], bool],
        hand_back: HandBack,
        clock: Clock,
        notifiers: Sequence[Notifier] = (),
    ) -> None:
        self._node = node
        self._copy = copy
        self._make_checks = checks
        self._enabled = enabled
        self._hand_back = hand_back
        self._clock = clock
        self._notifiers = tuple(notifiers)
        self._checks: TakeoverChecks | None = None
        self._running: asyncio.Task[None] | None = None
        self._to_hand_back: list[HandedBack] | None = None
        self.taking_over = False

    async def run(self, status: FollowerStatus) -> None:
        """Until cancelled; a takeover still running then is stopped (nothing handed back:
        the node is not reached)."""
        try:
            while True:
                await self._step(status)
                await self._clock.sleep(WATCH_SECONDS)
        finally:
            await self._stop_checks()
            if self._checks is not None:
                self._checks.close()

    async def _step(self, status: FollowerStatus) -> None:
        silent = status.silent_since is not None
        if silent and not self.taking_over and self._to_hand_back is None:
            if await asyncio.to_thread(self._enabled):
                await self._take_over()
        elif not silent and self.taking_over:
            await self._stop_checks()
            assert self._checks is not None
            self._to_hand_back = await asyncio.to_thread(self._checks.handed_back)
        if not silent and self._to_hand_back is not None:
            await self._try_hand_back(self._to_hand_back)

    async def _take_over(self) -> None:
        checks = self._make_checks()
        try:
            plan = await asyncio.to_thread(checks.prepare, self._copy)
        except Exception:
            log.exception("Could not take over the checks from the silent node")
            checks.close()
            return
        self._checks = checks
        self.taking_over = True
        for skipped in plan.skipped:
            log.warning("Taking over: %s", skipped.message)
        self._show(took_over(self._node, plan, self._clock.now()))
        self._running = asyncio.ensure_future(checks.run())

    async def _stop_checks(self) -> None:
        running, self._running = self._running, None
        self.taking_over = False
        if running is None:
            return
        assert self._checks is not None
        self._checks.stop()
        try:
            await asyncio.wait_for(asyncio.shield(running), 30)
        except TimeoutError:
            running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running

    async def _try_hand_back(self, incidents: list[HandedBack]) -> None:
        try:
            await self._hand_back(incidents)
        except Exception as exc:
            if _refused(exc):
                self._to_hand_back = None
                log.warning(
                    "The node refused the hand-back (%s): this computer's token may not write "
                    "(connect again with a token made without --read-only); the node may "
                    "e-mail what this computer told of already",
                    exc,
                )
                return
            log.warning("Could not hand the checks back to the node yet: %s", exc)
            await self._clock.sleep(HANDBACK_RETRY_SECONDS)
            return
        self._to_hand_back = None
        told = sum(1 for i in incidents if i.notified_at is not None)
        log.info("Handed the checks back to the node: %d incidents told of", told)
        self._show(handed_back(self._node, told, self._clock.now()))

    def _show(self, notification: Notification) -> None:
        log.warning("Node: %s", notification.summary)
        show_each(self._notifiers, [notification], _failed)


def _failed(_notifier: Notifier) -> None:
    log.exception("Could not show the takeover on this desktop")


def _refused(exc: Exception) -> bool:
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in {401, 403}

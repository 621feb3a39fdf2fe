"""The node's dead man's switch: while the service runs its checks, a GET to a
Healthchecks-style URL every N minutes, so that an outside service notices when the node
itself dies. A failed ping is logged and tried again the next round; it never holds up the
checks (its own task, a 10 s timeout). The URL and the period are read again every round, so
`vpshealth service heartbeat set | off` reaches a running service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx

from vpshealth import __version__
from vpshealth.clock import Clock
from vpshealth.domain.heartbeat import HeartbeatTarget

log = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 10.0
IDLE_SECONDS = 60.0
"""With no heartbeat set: look again this often."""


class Heartbeat:
    def __init__(
        self,
        load: Callable[[], HeartbeatTarget | None],
        clock: Clock,
        *,
        timeout: float = PING_TIMEOUT_SECONDS,
    ) -> None:
        self._load = load
        self._clock = clock
        self._timeout = timeout
        self.pings = 0
        self.failures = 0

    async def run(self) -> None:
        """Until cancelled: ping now, then every ``every`` seconds."""
        async with httpx.AsyncClient(
            timeout=self._timeout, headers={"User-Agent": f"vpshealth/{__version__}"}
        ) as client:
            while True:
                try:
                    target = await asyncio.to_thread(self._load)
                except Exception:
                    log.exception("Heartbeat: could not read its settings; will retry")
                    target = None
                if target is not None:
                    await self.ping(client, target)
                await self._clock.sleep(target.every if target is not None else IDLE_SECONDS)

    async def ping(self, client: httpx.AsyncClient, target: HeartbeatTarget) -> bool:
        try:
            response = await client.get(target.url)
        except httpx.HTTPError as exc:
            self.failures += 1
            log.warning(
                "Heartbeat: %s did not answer (%s); trying again in %d s",
                target.masked, type(exc).__name__, target.every,
            )  # fmt: skip
            return False
        if response.status_code >= 400:
            self.failures += 1
            log.warning(
                "Heartbeat: %s answered HTTP %d; trying again in %d s",
                target.masked, response.status_code, target.every,
            )  # fmt: skip
            return False
        self.pings += 1
        log.debug("Heartbeat: pinged %s", target.masked)
        return True

"""Keeps one delivery worker running per stored alert channel, following the ``channels``
table while the service runs: every few seconds it reads the rows (one small query) and starts
a worker for a channel added, and stops the worker of a channel removed. A switched-off
channel keeps its worker, which marks its notifications skipped, as e-mail does. A worker that
died is started again on the next round."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from vpshealth.alerts.apprise_channel import AppriseChannel
from vpshealth.alerts.delivery_worker import DeliveryWorker
from vpshealth.clock import Clock
from vpshealth.domain.channels import ChannelRecord
from vpshealth.secrets import SecretStore
from vpshealth.store.channel_repository import ChannelRepository

log = logging.getLogger(__name__)

ROUND_SECONDS = 3.0

MakeWorker = Callable[[ChannelRecord], DeliveryWorker[Any]]


class ChannelSupervisor:
    def __init__(
        self,
        engine: Engine,
        secrets: SecretStore,
        clock: Clock,
        *,
        round_seconds: float = ROUND_SECONDS,
        make_worker: MakeWorker | None = None,
    ) -> None:
        self._repository = ChannelRepository(engine)
        self._clock = clock
        self._round_seconds = round_seconds
        self._make_worker = make_worker or (
            lambda record: DeliveryWorker(
                engine,
                AppriseChannel(self._repository, record, secrets),
                clock,
                since=record.created_at,
            )
        )
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._names: dict[int, str] = {}

    @property
    def running(self) -> frozenset[int]:
        """The ids of the channels whose worker runs."""
        return frozenset(i for i, task in self._tasks.items() if not task.done())

    async def run(self) -> None:
        """Until cancelled; then every worker is stopped."""
        try:
            while True:
                try:
                    await self.follow()
                except Exception:
                    log.exception("Could not read the alert channels; trying again shortly")
                await self._clock.sleep(self._round_seconds)
        finally:
            await self.stop_all()

    async def follow(self) -> None:
        records = {r.id: r for r in await asyncio.to_thread(self._repository.list)}
        for channel_id in [i for i in self._tasks if i not in records]:
            log.info(
                "Alert channel %s was removed; its delivery stops", self._names.get(channel_id)
            )
            await self._stop(channel_id)
        for channel_id, record in records.items():
            task = self._tasks.get(channel_id)
            if task is not None and not task.done():
                continue
            if task is None:
                log.info("Alert channel %s (%s) delivers now", record.name, record.masked_url)
            self._names[channel_id] = record.name
            worker = self._make_worker(record)
            self._tasks[channel_id] = asyncio.create_task(
                worker.run(), name=f"{record.name} channel delivery"
            )

    async def _stop(self, channel_id: int) -> None:
        task = self._tasks.pop(channel_id)
        self._names.pop(channel_id, None)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def stop_all(self) -> None:
        for channel_id in list(self._tasks):
            await self._stop(channel_id)

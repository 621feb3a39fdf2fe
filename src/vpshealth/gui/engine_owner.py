"""Who runs the checks: this app (it holds the engine lock and runs the service on its loop)
or the background service (then the app only follows the database). Checks never run twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from enum import StrEnum

from PySide6.QtCore import QObject, QTimer, Signal

from vpshealth.app import Core
from vpshealth.domain.notifications import Notifier
from vpshealth.engine.lock import EngineLock
from vpshealth.engine.service import Service
from vpshealth.errors import EngineLockedError
from vpshealth.gui.tasks import TaskRunner

log = logging.getLogger(__name__)

RETRY_MS = 10_000


class EngineMode(StrEnum):
    OWNER = "owner"
    VIEWER = "viewer"
    STOPPED = "stopped"


MODE_TEXT = {
    EngineMode.OWNER: "Checks run in this app",
    EngineMode.VIEWER: "Checks run by the background service",
    EngineMode.STOPPED: "Checks are stopped",
}


class EngineOwner(QObject):
    mode_changed = Signal(str)
    paused_changed = Signal(bool)
    service_ended = Signal()
    """The checks stopped without being asked by the app (e.g. SIGTERM reached the service)."""

    def __init__(
        self,
        core: Core,
        notifiers: Sequence[Notifier],
        tasks: TaskRunner,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._core = core
        self._notifiers = notifiers
        self._tasks = tasks
        self._lock = EngineLock(core.paths.engine_lock)
        self._service: Service | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._mode = EngineMode.STOPPED
        self._retry = QTimer(self)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self._try_take_over)

    @property
    def mode(self) -> EngineMode:
        return self._mode

    @property
    def paused(self) -> bool:
        return self._service is not None and self._service.paused

    def start(self) -> EngineMode:
        """Take the engine lock and run the checks here, or follow the background service (and
        take over when it stops)."""
        try:
            self._lock.acquire()
        except EngineLockedError:
            owner = self._lock.owner_pid()
            log.info("The background service (PID %s) runs the checks; following it", owner)
            self._set_mode(EngineMode.VIEWER)
            self._retry.start()
            return self._mode
        self._retry.stop()
        self._service = self._core.build_service(self._notifiers)
        self._run_task = self._tasks.spawn(self._run(self._service), "Running the checks")
        log.info("This app runs the checks")
        self._set_mode(EngineMode.OWNER)
        return self._mode

    async def _run(self, service: Service) -> None:
        await service.run()
        if self._service is service:
            self.service_ended.emit()

    def _try_take_over(self) -> None:
        if self._mode is EngineMode.VIEWER:
            self.start()

    def _set_mode(self, mode: EngineMode) -> None:
        if mode is not self._mode:
            self._mode = mode
            self.mode_changed.emit(mode.value)

    def check_all_now(self) -> asyncio.Task[None] | None:
        if self._service is None:
            return None
        return self._tasks.spawn(self._service.check_all_now(), "Checking every server now")

    def set_paused(self, paused: bool) -> asyncio.Task[None] | None:
        service = self._service
        if service is None:
            return None

        async def apply() -> None:
            await service.set_paused(paused)
            self.paused_changed.emit(paused)

        return self._tasks.spawn(
            apply(), "Resuming the checks" if not paused else "Pausing the checks"
        )

    async def stop(self) -> None:
        """Stop the checks and release the lock (on quit)."""
        self._retry.stop()
        service, task = self._service, self._run_task
        self._service = self._run_task = None
        if service is not None and task is not None:
            service.request_stop()
            await asyncio.gather(task, return_exceptions=True)
        self._lock.release()
        self._set_mode(EngineMode.STOPPED)

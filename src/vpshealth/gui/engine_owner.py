"""Who runs the checks: this app (it holds the engine lock and runs the service on its loop),
the background service (then the app only follows the database), or the node this computer is
linked to (then the app runs no checks: it keeps the node's copy in sync and shows it). Checks
never run twice."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine, Sequence
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from vpshealth.app import Core
from vpshealth.domain.notifications import Notifier
from vpshealth.engine.lock import EngineLock
from vpshealth.engine.service import Service
from vpshealth.errors import EngineLockedError
from vpshealth.gui.tasks import TaskRunner
from vpshealth.sync.follower import Follower, FollowerStatus
from vpshealth.sync.node_link import NodeLink

log = logging.getLogger(__name__)

RETRY_MS = 10_000
NODE_POLL_MS = 1000
"""How often the follower's status is looked at (a catch-up done: the views read again)."""

FollowNode = Callable[[Callable[[Follower], None]], Coroutine[Any, Any, None]]
"""Keeps the copy in sync with the node until cancelled; hands its follower over first."""


class EngineMode(StrEnum):
    OWNER = "owner"
    VIEWER = "viewer"
    STOPPED = "stopped"
    NODE = "node"


MODE_TEXT = {
    EngineMode.OWNER: "Checks run in this app",
    EngineMode.VIEWER: "Checks run by the background service",
    EngineMode.STOPPED: "Checks are stopped",
    EngineMode.NODE: "Checks run by the node",
}


def mode_text(mode: EngineMode, node: NodeLink | None = None) -> str:
    """ "Checks run by the node ssh://root@node1" when the node is known."""
    if mode is EngineMode.NODE and node is not None:
        return f"{MODE_TEXT[mode]} {node.address.text}"
    return MODE_TEXT[mode]


class EngineOwner(QObject):
    mode_changed = Signal(str)
    paused_changed = Signal(bool)
    service_ended = Signal()
    """The checks stopped without being asked by the app (e.g. SIGTERM reached the service)."""
    node_status_changed = Signal(object)
    """A FollowerStatus (a copy) whenever what it says changed, in node mode."""
    copy_synced = Signal()
    """The node's copy was caught up: what is shown should be read again."""

    def __init__(
        self,
        core: Core,
        notifiers: Sequence[Notifier],
        tasks: TaskRunner,
        parent: QObject | None = None,
        *,
        follow: FollowNode | None = None,
        node_notifiers: Sequence[Notifier] | None = None,
    ) -> None:
        """``node_notifiers`` show the node's notifications in node mode (``notifiers``
        without it)."""
        super().__init__(parent)
        self._core = core
        self._notifiers = notifiers
        self._node_notifiers = notifiers if node_notifiers is None else node_notifiers
        self._tasks = tasks
        self._lock = EngineLock(core.paths.engine_lock)
        self._service: Service | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._mode = EngineMode.STOPPED
        self._retry = QTimer(self)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self._try_take_over)
        self._follow = follow or self._follow_node
        self._follow_task: asyncio.Task[None] | None = None
        self._follower: Follower | None = None
        self._node_status: FollowerStatus | None = None
        self.node: NodeLink | None = None
        self._node_poll = QTimer(self)
        self._node_poll.setInterval(NODE_POLL_MS)
        self._node_poll.timeout.connect(self.poll_node)

    @property
    def mode(self) -> EngineMode:
        return self._mode

    @property
    def text(self) -> str:
        return mode_text(self._mode, self.node)

    @property
    def node_name(self) -> str:
        return self.node.name if self.node is not None else "no node"

    @property
    def node_status(self) -> FollowerStatus | None:
        """What the follower said at the last look (node mode, once it started)."""
        return self._node_status

    @property
    def paused(self) -> bool:
        return self._service is not None and self._service.paused

    def start(self) -> EngineMode:
        """Linked to a node: keep its copy in sync and run nothing here. Otherwise take the
        engine lock and run the checks here, or follow the background service (and take over
        when it stops)."""
        self.node = self._core.reads.node
        if self.node is not None:
            self._retry.stop()
            self._follow_task = self._tasks.spawn(
                self._follow(self._follower_started), "Following the node"
            )
            self._node_poll.start()
            log.info("%s", mode_text(EngineMode.NODE, self.node))
            self._set_mode(EngineMode.NODE)
            return self._mode
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

    async def _follow_node(self, started: Callable[[Follower], None]) -> None:
        await self._core.operations.node.follow(started=started, notifiers=self._node_notifiers)

    def _follower_started(self, follower: Follower) -> None:
        self._follower = follower
        self.poll_node()

    def poll_node(self) -> None:
        """Look at the follower's status: say when it changed, and when a catch-up ended."""
        if self._follower is None:
            return
        status = dataclasses.replace(self._follower.status)
        before, self._node_status = self._node_status, status
        if before is None or status != before:
            self.node_status_changed.emit(status)
        if before is None or status.catch_ups != before.catch_ups:
            self.copy_synced.emit()

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
        """Stop the checks (or the following of the node) and release the lock (on quit)."""
        self._retry.stop()
        self._node_poll.stop()
        follow, self._follow_task = self._follow_task, None
        self._follower = self._node_status = None
        if follow is not None:
            follow.cancel()
            await asyncio.gather(follow, return_exceptions=True)
        service, task = self._service, self._run_task
        self._service = self._run_task = None
        if service is not None and task is not None:
            service.request_stop()
            await asyncio.gather(task, return_exceptions=True)
        self._lock.release()
        self._set_mode(EngineMode.STOPPED)

    async def restart(self) -> EngineMode:
        """After the link changed (Settings → Who runs the checks): stop, choose what to read
        again, and start in the mode that fits now."""
        await self.stop()
        await asyncio.to_thread(self._choose_reads_again)
        return self.start()

    def _choose_reads_again(self) -> None:
        self._core.choose_reads_again()
        self.node = self._core.reads.node  # opens the copy here, off the GUI thread

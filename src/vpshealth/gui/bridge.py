"""The one bridge from the core to Qt: follows the database (written by this app's engine or
by the background service) and turns what changed into Qt signals."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from vpshealth.domain.health import HostState
from vpshealth.gui.tasks import TaskRunner
from vpshealth.read_model.fleet import FleetSnapshot
from vpshealth.read_model.reader import ReadModel
from vpshealth.store.host_repository import HostRecord

log = logging.getLogger(__name__)

POLL_MS = 2000


@dataclass(frozen=True, slots=True)
class StateChange:
    record: HostRecord
    old: HostState
    new: HostState


def state_changes(before: FleetSnapshot, after: FleetSnapshot) -> list[StateChange]:
    """Hosts whose state differs between two snapshots. A host seen for the first time (or
    checked for the first time) counts as a change from 'unknown'."""
    old_states = before.states()
    changes = []
    for record in after.records:
        if record.status is None:
            continue
        old = old_states.get(record.id, HostState.UNKNOWN)
        if old is not record.status.state:
            changes.append(StateChange(record, old, record.status.state))
    return changes


class FleetWatcher(QObject):
    snapshot_changed = Signal(object)
    """A new FleetSnapshot (emitted when anything in it differs from the previous one)."""
    states_changed = Signal(list)
    """list[StateChange]; never emitted for the very first snapshot."""
    notifications_arrived = Signal(list)
    """list[Notification] the alerting stored since the previous read (none of those from
    before the app started)."""

    def __init__(
        self,
        read_model: ReadModel,
        tasks: TaskRunner,
        parent: QObject | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self._read_model = read_model
        self._now = now
        self._tasks = tasks
        self._snapshot: FleetSnapshot | None = None
        self._last_notification: int | None = None
        self._busy = False
        # One read at a time: a periodic read that began before a change (a snooze) must not
        # publish after the read that follows it, nor the same notifications twice.
        self._reading = asyncio.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)

    @property
    def snapshot(self) -> FleetSnapshot | None:
        return self._snapshot

    def start(self) -> None:
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    def set_read_model(self, read_model: ReadModel) -> None:
        """Read from elsewhere from now on (this computer's database, or a node's copy): the
        next read is a first one (no state changes, no earlier notifications)."""
        self._read_model = read_model
        self._snapshot = None
        self._last_notification = None

    def refresh(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._tasks.spawn(self._refresh(), "Reading the server list")

    async def refresh_now(self) -> None:
        """Read and publish right away (after the user changed something)."""
        await self._read_and_publish()

    async def _refresh(self) -> None:
        try:
            await self._read_and_publish()
        finally:
            self._busy = False

    async def _read_and_publish(self) -> None:
        async with self._reading:
            await self._read_and_publish_alone()

    async def _read_and_publish_alone(self) -> None:
        model = self._read_model
        snapshot = await asyncio.to_thread(model.fleet, int(self._now()))
        if self._last_notification is None:
            self._last_notification = await asyncio.to_thread(model.last_notification_id)
        else:
            self._last_notification, arrived = await asyncio.to_thread(
                model.notifications_after, self._last_notification
            )
            if arrived:
                self.notifications_arrived.emit(arrived)
        previous, self._snapshot = self._snapshot, snapshot
        if previous == snapshot:
            return
        self.snapshot_changed.emit(snapshot)
        if previous is not None:
            changes = state_changes(previous, snapshot)
            if changes:
                self.states_changed.emit(changes)

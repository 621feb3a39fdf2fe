from __future__ import annotations

import asyncio
import threading

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.factories import add, result, ssh_host
from vpshealth.app import Core
from vpshealth.domain.health import HostState, Problem
from vpshealth.gui.bridge import FleetWatcher, StateChange
from vpshealth.gui.context import GuiContext
from vpshealth.read_model.fleet import FleetSnapshot
from vpshealth.read_model.reader import ReadModel


def test_watcher_publishes_snapshots_and_state_changes(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    host_id = add(core, ssh_host("web1"))
    writer = core.results_writer()
    writer.write([(host_id, result("web1", 1000))])
    watcher = FleetWatcher(core.read_model, ctx.tasks)
    snapshots: list[object] = []
    changes: list[list[StateChange]] = []
    watcher.snapshot_changed.connect(snapshots.append)
    watcher.states_changed.connect(changes.append)

    loop.run(watcher.refresh_now())
    assert len(snapshots) == 1
    assert changes == []  # the first snapshot is the baseline, not a change

    loop.run(watcher.refresh_now())
    assert len(snapshots) == 1  # nothing new, nothing published

    writer.write(
        [
            (
                host_id,
                result("web1", 1015, HostState.UNREACHABLE, "cannot connect", Problem.UNREACHABLE),
            )
        ]
    )
    loop.run(watcher.refresh_now())
    assert len(snapshots) == 2
    [[state_change]] = changes
    assert (state_change.record.host.name, state_change.old, state_change.new) == (
        "web1",
        HostState.OK,
        HostState.UNREACHABLE,
    )


def test_timer_refresh_runs_in_the_background(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    add(core, ssh_host("web1"))
    watcher = FleetWatcher(core.read_model, ctx.tasks)
    with qtbot.waitSignal(watcher.snapshot_changed, timeout=10_000) as blocker:
        watcher.start()
        loop.run(ctx.tasks.wait_idle())
    watcher.stop()
    # The embedded "localhost" host (this computer) is there from the first start.
    assert [r.host.name for r in blocker.args[0].records] == ["localhost", "web1"]


def test_a_read_begun_before_a_change_is_not_published_after_it(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_read_began, let_it_end = threading.Event(), threading.Event()
    reads = 0

    read_fleet = ReadModel.fleet

    def first_read_held(model: ReadModel, now: int) -> FleetSnapshot:
        nonlocal reads
        reads += 1
        snapshot = read_fleet(model, now)
        if reads == 1:
            first_read_began.set()
            let_it_end.wait(10)
        return snapshot

    monkeypatch.setattr(ReadModel, "fleet", first_read_held)
    watcher = FleetWatcher(core.read_model, ctx.tasks, now=lambda: 1500)

    async def snooze_during_a_periodic_read() -> None:
        watcher.refresh()  # the timer's read, held after reading the database
        await asyncio.to_thread(first_read_began.wait, 10)
        core.silences.snooze(None, 4600, 1000)
        after_the_change = asyncio.ensure_future(watcher.refresh_now())
        await asyncio.sleep(0.3)
        let_it_end.set()
        await after_the_change
        await ctx.tasks.wait_idle()

    loop.run(snooze_during_a_periodic_read())
    assert reads == 2
    assert watcher.snapshot is not None
    assert watcher.snapshot.snoozed_until == 4600


def test_fleet_counts_and_global_snooze(core: Core) -> None:
    host_id = add(core, ssh_host("web1"))
    core.silences.snooze(None, 4600, 1000)
    core.silences.snooze(host_id, 2000, 1000)  # one host's snooze is not the global one
    fleet = core.read_model.fleet(1500)
    assert fleet.snoozed_until == 4600
    assert core.read_model.fleet(5000).snoozed_until is None
    core.silences.end_snoozes(None, 1600)
    assert core.read_model.fleet(1700).snoozed_until is None

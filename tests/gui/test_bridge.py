from __future__ import annotations

import asyncio
import threading

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from tests.gui.conftest import Loop
from tests.gui.factories import add, result, ssh_host
from vpshealth.app import Core
from vpshealth.domain.health import HostState, Problem
from vpshealth.gui import bridge
from vpshealth.gui.bridge import FleetWatcher, StateChange
from vpshealth.gui.context import GuiContext
from vpshealth.gui.fleet_query import FleetSnapshot, read_fleet
from vpshealth.gui.snooze import end_snooze, snooze


def test_watcher_publishes_snapshots_and_state_changes(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    host_id = add(core, ssh_host("web1"))
    writer = core.results_writer()
    writer.write([(host_id, result("web1", 1000))])
    watcher = FleetWatcher(core.engine, ctx.tasks)
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
    watcher = FleetWatcher(core.engine, ctx.tasks)
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

    def first_read_held(engine: Engine, now: int) -> FleetSnapshot:
        nonlocal reads
        reads += 1
        snapshot = read_fleet(engine, now)
        if reads == 1:
            first_read_began.set()
            let_it_end.wait(10)
        return snapshot

    monkeypatch.setattr(bridge, "read_fleet", first_read_held)
    watcher = FleetWatcher(core.engine, ctx.tasks, now=lambda: 1500)

    async def snooze_during_a_periodic_read() -> None:
        watcher.refresh()  # the timer's read, held after reading the database
        await asyncio.to_thread(first_read_began.wait, 10)
        snooze(core.engine, 1000, 4600)
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
    snooze(core.engine, 1000, 4600)
    snooze(core.engine, 1000, 2000, host_id)  # one host's snooze is not the global one
    fleet = read_fleet(core.engine, 1500)
    assert fleet.snoozed_until == 4600
    assert read_fleet(core.engine, 5000).snoozed_until is None
    end_snooze(core.engine, 1600)
    assert read_fleet(core.engine, 1700).snoozed_until is None

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.factories import add, result, ssh_host
from vpshealth.app import Core
from vpshealth.domain.health import HostState, Problem
from vpshealth.gui.bridge import FleetWatcher, StateChange
from vpshealth.gui.context import GuiContext
from vpshealth.gui.fleet_query import read_fleet
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


def test_fleet_counts_and_global_snooze(core: Core) -> None:
    host_id = add(core, ssh_host("web1"))
    snooze(core.engine, 1000, 4600)
    snooze(core.engine, 1000, 2000, host_id)  # one host's snooze is not the global one
    fleet = read_fleet(core.engine, 1500)
    assert fleet.snoozed_until == 4600
    assert read_fleet(core.engine, 5000).snoozed_until is None
    end_snooze(core.engine, 1600)
    assert read_fleet(core.engine, 1700).snoozed_until is None

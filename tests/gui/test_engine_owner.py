from __future__ import annotations

import asyncio

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from vpshealth.app import Core
from vpshealth.engine.lock import EngineLock
from vpshealth.errors import EngineLockedError
from vpshealth.gui.context import GuiContext
from vpshealth.gui.desktop import DesktopApp
from vpshealth.gui.engine_owner import EngineMode, EngineOwner
from vpshealth.gui.tray import SNOOZE_HOUR


def test_viewer_mode_when_the_background_service_holds_the_lock(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    with EngineLock(core.paths.engine_lock):
        app = DesktopApp(ctx, tray_available=False)
        qtbot.addWidget(app.window)
        app.start(show_window=True, desktop_notifications=False)
        assert app.engine.mode is EngineMode.VIEWER
        assert "Checks run by the background service" in app.window.status_text()
        assert not app.window.check_action.isEnabled()
        assert not app.window.pause_action.isEnabled()
        assert ctx.tasks.pending <= 1  # at most the first database read; no checks running
        loop.run(app.shutdown())
    assert app.engine.mode is EngineMode.STOPPED


def test_owner_mode_takes_the_lock_and_releases_it_on_quit(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    owner = EngineOwner(core, [], ctx.tasks)
    assert owner.start() is EngineMode.OWNER
    other = EngineLock(core.paths.engine_lock)
    with pytest.raises(EngineLockedError):
        other.acquire()
    loop.run(owner.stop())
    assert owner.mode is EngineMode.STOPPED
    other.acquire()
    other.release()


def test_owner_runs_checks_and_the_watcher_sees_localhost(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    """The embedded localhost host shows live data on first start. (Each scenario runs as one
    coroutine: Qt must not run asyncio callbacks while the loop is stopped between steps.)"""
    app = DesktopApp(ctx, tray_available=True)
    qtbot.addWidget(app.window)

    async def scenario() -> None:
        app.start(show_window=False, desktop_notifications=False)
        assert "Checks run in this app" in app.window.status_text()
        check = app.engine.check_all_now()
        assert check is not None
        await check
        while True:
            await app.watcher.refresh_now()
            snapshot = app.watcher.snapshot
            record = snapshot.record(1) if snapshot else None
            if record is not None and record.status is not None:
                break
            await asyncio.sleep(0.2)  # the service writes its results once a second
        await app.shutdown()

    loop.run(asyncio.wait_for(scenario(), 60))
    assert app.window.overview.model.rowCount() == 1
    assert app.window.overview.model.index(0, 3).data().endswith("%")
    assert app.engine.mode is EngineMode.STOPPED


def test_pause_stops_checks_and_shows_it(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    app = DesktopApp(ctx, tray_available=True)
    qtbot.addWidget(app.window)

    async def scenario() -> None:
        app.start(show_window=False, desktop_notifications=False)
        pause = app.engine.set_paused(True)
        assert pause is not None
        await pause
        assert app.engine.paused
        assert app.tray.state.kind.value == "paused"
        assert "Checks are paused" in app.window.status_text()
        assert not app.window.check_action.isEnabled()
        resume = app.engine.set_paused(False)
        assert resume is not None
        await resume
        assert app.window.check_action.isEnabled()
        await app.shutdown()

    loop.run(asyncio.wait_for(scenario(), 60))


def test_the_app_takes_over_when_the_background_service_stops(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    service_lock = EngineLock(core.paths.engine_lock)
    service_lock.acquire()
    owner = EngineOwner(core, [], ctx.tasks)
    assert owner.start() is EngineMode.VIEWER
    owner._try_take_over()  # what the retry timer does every few seconds
    assert owner.mode is EngineMode.VIEWER
    service_lock.release()
    with qtbot.waitSignal(owner.mode_changed) as changed:
        owner._try_take_over()
    assert changed.args == ["owner"]
    loop.run(owner.stop())


def test_snooze_from_the_tray_writes_a_global_silence(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    app = DesktopApp(ctx, tray_available=True)
    qtbot.addWidget(app.window)

    with EngineLock(core.paths.engine_lock):  # viewer mode: no checks running meanwhile
        app.start(show_window=False, desktop_notifications=False)
        app.tray.snooze.emit(SNOOZE_HOUR)
        loop.run(ctx.tasks.wait_idle())
        snapshot = app.watcher.snapshot
        assert snapshot is not None
        assert snapshot.snoozed_until == int(ctx.now()) + 3600
        assert "Notifications snoozed until" in app.tray.icon.toolTip()
        assert "notifications snoozed until" in app.window.status_text()
        loop.run(app.shutdown())


def test_a_failing_background_task_is_shown(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    app = DesktopApp(ctx, tray_available=True)
    qtbot.addWidget(app.window)

    async def broken() -> None:
        raise RuntimeError("the database is locked")

    ctx.tasks.spawn(broken(), "Reading the server list")
    loop.run(ctx.tasks.wait_idle())
    assert app.window.statusBar().currentMessage() == (
        "Reading the server list failed: the database is locked"
    )

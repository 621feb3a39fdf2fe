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

"""`vpshealth` without a command: the desktop app, on one asyncio loop shared with the core."""

from __future__ import annotations

import asyncio
import logging
import sys

import qasync
from PySide6.QtWidgets import QApplication

from vpshealth import APP_ID
from vpshealth.app import build_core
from vpshealth.config import Paths, Settings
from vpshealth.engine.stop_signals import on_stop_signals
from vpshealth.gui.context import GuiContext
from vpshealth.gui.desktop import DesktopApp, tray_available
from vpshealth.gui.single_instance import SingleInstance, ask_running_instance, server_name
from vpshealth.gui.tasks import TaskRunner
from vpshealth.gui.windows_app_id import claim_windows_app_id

log = logging.getLogger(__name__)


def run(settings: Settings, paths: Paths) -> int:
    claim_windows_app_id(APP_ID)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("VPS Health")
    app.setDesktopFileName(APP_ID)
    app.setQuitOnLastWindowClosed(False)

    name = server_name(paths.data_dir)
    if ask_running_instance(name):
        print("VPS Health is already running; its window was brought to the front.")
        return 0
    instance = SingleInstance(name)
    if not instance.listen():
        log.warning("Could not claim the single-instance socket %s", name)

    core = build_core(settings)
    tasks = TaskRunner()
    has_tray = tray_available()
    log.info("System tray available: %s", has_tray)
    desktop = DesktopApp(GuiContext(core, tasks), tray_available=has_tray)
    instance.raise_requested.connect(desktop.show_dashboard)

    async def main() -> None:
        finished = asyncio.Event()
        desktop.finished.connect(finished.set)
        loop = asyncio.get_running_loop()

        def quit_on_signals() -> None:
            on_stop_signals(loop, desktop.quit)

        # The checks' service takes these signals over while it runs (and restores the
        # defaults when it stops); its end quits the app, and a second signal quits it too.
        quit_on_signals()
        desktop.engine.service_ended.connect(quit_on_signals)
        desktop.start(show_window=True)
        await finished.wait()
        await tasks.cancel_all()

    loop = qasync.QEventLoop(app)
    try:
        with loop:
            loop.run_until_complete(main())
    finally:
        instance.close()
        core.close()
    return 0

"""One meaning of ending a snooze: "Resume notifications" in the tray and `vpshealth snooze
--all off` both keep the row and end it now, and leave the alerting unsilenced."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from vpshealth.app import Core, build_core
from vpshealth.config import Settings
from vpshealth.domain.silences import silenced
from vpshealth.engine.lock import EngineLock
from vpshealth.gui.context import GuiContext
from vpshealth.gui.desktop import DesktopApp
from vpshealth.gui.tray import SNOOZE_END, SNOOZE_HOUR
from vpshealth.store.schema import silences

Outcome = tuple[list[tuple[int | None, str, bool]], int | None, bool]


def _outcome(core: Core, ended_from: int, ended_by: int) -> Outcome:
    """The stored rows (host, kind, ended between ``ended_from`` and ``ended_by``), the
    every-host snooze the overview shows and whether the alerting would hold back a host's
    notifications, just after."""
    with core.engine.connect() as conn:
        rows = [
            (r.host_id, r.kind, r.starts_at <= r.ends_at and ended_from <= r.ends_at <= ended_by)
            for r in conn.execute(silences.select())
        ]
    after = ended_by + 1
    held_back = silenced(core.silences.current(after), 1, after)
    return rows, core.read_model.fleet(after).snoozed_until, held_back


def _cli(home: Path, *argv: str) -> tuple[int, int]:
    """`vpshealth ...` in its own process (what it changes in the process stays there);
    returns the whole seconds it ran between."""
    env = {**os.environ, "VPSHEALTH_HOME": str(home)}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    started = int(time.time())
    done = subprocess.run(
        [sys.executable, "-m", "vpshealth", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return started, int(time.time())


def test_ending_a_snooze_in_the_tray_and_on_the_cli_stores_the_same(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, tmp_path: Path
) -> None:
    app = DesktopApp(ctx, tray_available=True)
    qtbot.addWidget(app.window)
    with EngineLock(core.paths.engine_lock):  # viewer mode: no checks running meanwhile
        app.start(show_window=False, desktop_notifications=False)
        app.tray.snooze.emit(SNOOZE_HOUR)
        loop.run(ctx.tasks.wait_idle())
        assert _outcome(core, 0, int(ctx.now()))[2], "snoozed: notifications held back"
        app.tray.snooze.emit(SNOOZE_END)
        loop.run(ctx.tasks.wait_idle())
        loop.run(app.shutdown())
    now = int(ctx.now())
    from_the_tray = _outcome(core, now, now)

    home = tmp_path / "cli"
    _cli(home, "snooze", "--all", "1h")
    ended_from, ended_by = _cli(home, "snooze", "--all", "off")
    cli_core = build_core(Settings(home=home))
    try:
        from_the_cli = _outcome(cli_core, ended_from, ended_by)
    finally:
        cli_core.close()

    assert from_the_tray == from_the_cli == ([(None, "snooze", True)], None, False)

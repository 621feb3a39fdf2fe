from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.gui.factories import record
from vpshealth.domain.health import HostState
from vpshealth.gui.engine_owner import EngineMode
from vpshealth.gui.tray import (
    SNOOZE_END,
    SNOOZE_HOUR,
    SNOOZE_TOMORROW,
    TrayController,
    action_named,
)
from vpshealth.gui.tray_state import TrayKind
from vpshealth.read_model.fleet import FleetSnapshot


def _tray(mode: EngineMode, snoozed_until: int | None = None) -> TrayController:
    tray = TrayController()
    tray.set_mode(mode)
    tray.set_snapshot(
        FleetSnapshot(
            (
                record(1, "web1", HostState.OK),
                record(2, "db1", HostState.CRITICAL, "disk / at 97% (limit 95%)"),
            ),
            snoozed_until=snoozed_until,
        )
    )
    tray.rebuild_menu()
    return tray


def test_menu_lists_hosts_worst_first_then_the_actions(qapp: QApplication) -> None:
    tray = _tray(EngineMode.OWNER)
    assert tray.action_texts() == [
        "db1 — Critical",
        "web1 — OK",
        "---",
        "Open dashboard",
        "Check all now",
        "Snooze notifications > For 1 hour | Until tomorrow morning",
        "Pause checks",
        "---",
        "Settings…",
        "Quit VPS Health",
    ]
    assert tray.state.kind is TrayKind.CRITICAL
    assert "Worst: db1" in tray.icon.toolTip()


def test_menu_entries_emit_their_commands(qapp: QApplication) -> None:
    tray = _tray(EngineMode.OWNER)
    opened: list[int] = []
    snoozes: list[str] = []
    pauses: list[bool] = []
    tray.open_host.connect(opened.append)
    tray.snooze.connect(snoozes.append)
    tray.pause.connect(pauses.append)
    action_named(tray.menu, "db1 — Critical").trigger()
    snooze_menu = action_named(tray.menu, "Snooze notifications").menu()
    for action in snooze_menu.actions():  # type: ignore[union-attr]
        action.trigger()
    action_named(tray.menu, "Pause checks").trigger()
    assert opened == [2]
    assert snoozes == [SNOOZE_HOUR, SNOOZE_TOMORROW]
    assert pauses == [True]


def test_viewer_mode_cannot_check_or_pause(qapp: QApplication) -> None:
    tray = _tray(EngineMode.VIEWER)
    assert not action_named(tray.menu, "Check all now").isEnabled()
    assert not action_named(tray.menu, "Pause checks").isEnabled()


def test_snoozed_menu_offers_to_resume(qapp: QApplication) -> None:
    tray = _tray(EngineMode.OWNER, snoozed_until=1_900_000_000)
    snooze_menu = action_named(tray.menu, "Snooze notifications").menu()
    texts = [a.text() for a in snooze_menu.actions() if not a.isSeparator()]  # type: ignore[union-attr]
    assert texts[-1].startswith("Resume notifications (snoozed until")
    resumed: list[str] = []
    tray.snooze.connect(resumed.append)
    snooze_menu.actions()[-1].trigger()  # type: ignore[union-attr]
    assert resumed == [SNOOZE_END]
    assert "Notifications snoozed until" in tray.icon.toolTip()


def test_paused_icon(qapp: QApplication) -> None:
    tray = _tray(EngineMode.OWNER)
    tray.set_paused(True)
    assert tray.state.kind is TrayKind.PAUSED
    tray.rebuild_menu()
    assert action_named(tray.menu, "Pause checks").isChecked()
    assert not action_named(tray.menu, "Check all now").isEnabled()

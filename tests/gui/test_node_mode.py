"""Linked to a node, the app runs no checks: it follows the node and shows its copy, with the
mode in the status bar, an offline banner while the node is not followed and the node's
state in the tray; going back to this computer switches without a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.unit.copy_support import NODE_ADDRESS, link_with_copy
from vpshealth.app import Core
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind, Notifier
from vpshealth.engine.lock import EngineLock
from vpshealth.gui.context import GuiContext
from vpshealth.gui.desktop import DesktopApp
from vpshealth.gui.engine_owner import EngineMode, mode_text
from vpshealth.gui.node_state import node_tray_line, offline_banner
from vpshealth.gui.tray_state import TrayKind
from vpshealth.sync.follower import FollowerStatus
from vpshealth.sync.node_session import NodeProblem

NOW = 1_800_000_000.0


class FakeFollow:
    """What ``operations.node.follow`` does for the app, without a node: a follower whose
    status the test sets."""

    def __init__(self) -> None:
        self.follower: Any = SimpleNamespace(status=FollowerStatus())
        self.runs = 0
        self.notifiers: Sequence[Notifier] = ()

    async def __call__(
        self, started: Callable[[Any], None], notifiers: Sequence[Notifier] = ()
    ) -> None:
        self.runs += 1
        self.notifiers = notifiers
        started(self.follower)
        await asyncio.Event().wait()


@pytest.fixture
def follow(core: Core, monkeypatch: pytest.MonkeyPatch) -> FakeFollow:
    fake = FakeFollow()
    monkeypatch.setattr(core.operations.node, "follow", fake)
    return fake


def _names(app: DesktopApp) -> list[str]:
    snapshot = app.watcher.snapshot
    return sorted(r.host.name for r in snapshot.records) if snapshot else []


def test_linked_the_app_runs_no_checks_and_shows_the_nodes_copy(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, follow: FakeFollow
) -> None:
    link_with_copy(core, ["web1", "db1"], synced_at=NOW - 7200, now=NOW)
    app = DesktopApp(ctx, tray_available=True)
    qtbot.addWidget(app.window)

    async def scenario() -> None:
        app.start(show_window=False, desktop_notifications=False)
        assert app.engine.mode is EngineMode.NODE
        await asyncio.sleep(0)
        await app.watcher.refresh_now()
        assert _names(app) == ["db1", "web1"]
        assert app.window.status_text() == f"Checks run by the node {NODE_ADDRESS}"
        assert not app.window.check_action.isEnabled()
        assert not app.window.pause_action.isEnabled()
        lock = EngineLock(core.paths.engine_lock)
        lock.acquire()  # no checks here: the engine lock is free
        lock.release()
        assert app.window.banner_text() is None  # still connecting

        status = follow.follower.status
        status.last_synced_at = NOW - 7200
        status.last_error = "the node does not answer at node.example.net"
        app.engine.poll_node()
        assert app.window.banner_text() == (
            "Offline — last synced 2 h ago: the node does not answer at node.example.net"
        )
        assert "Node: offline, last synced" in app.tray.state.tooltip

        status.connected, status.last_error, status.catch_ups = True, None, 1
        app.engine.poll_node()
        assert app.window.banner_text() is None
        assert app.tray.state.tooltip.endswith("Node: connected")

        status.connected, status.silent_since = False, NOW - 600
        status.problem = NodeProblem.TOKEN_REFUSED
        app.engine.poll_node()
        assert app.tray.state.kind is TrayKind.UNREACHABLE
        assert "Node silent since" in app.tray.state.tooltip
        assert "(the node refused the token (revoked?))" in app.tray.state.tooltip
        assert app.window.banner_text() == (
            "Offline — last synced 2 h ago: the node refused the token (revoked?)"
        )
        await app.shutdown()

    loop.run(asyncio.wait_for(scenario(), 30))
    assert follow.runs == 1
    assert app.engine.mode is EngineMode.STOPPED


def test_unlinking_switches_to_this_computer_without_a_restart(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, follow: FakeFollow
) -> None:
    link_with_copy(core, ["web1"], synced_at=NOW, now=NOW)
    app = DesktopApp(ctx, tray_available=True)
    qtbot.addWidget(app.window)

    async def scenario() -> None:
        with EngineLock(core.paths.engine_lock):  # the background service runs the checks
            app.start(show_window=False, desktop_notifications=False)
            await app.watcher.refresh_now()
            assert _names(app) == ["web1"]
            await asyncio.to_thread(core.operations.node.disconnect)
            await app.switch_engine()
            assert app.engine.mode is EngineMode.VIEWER
            assert _names(app) == ["localhost"]
            assert app.window.status_text() == "Checks run by the background service"
            await app.shutdown()

    loop.run(asyncio.wait_for(scenario(), 30))


def test_mode_texts() -> None:
    assert mode_text(EngineMode.OWNER) == "Checks run in this app"
    assert mode_text(EngineMode.NODE) == "Checks run by the node"


def test_the_banner_and_the_tray_line_say_what_the_follower_says() -> None:
    assert offline_banner(None, NOW) is None
    assert offline_banner(FollowerStatus(), NOW) is None  # connecting: not offline yet
    never = FollowerStatus(problem=NodeProblem.UNREACHABLE)
    assert offline_banner(never, NOW) == (
        "Offline — never synced yet: the node does not answer (down, or the network)"
    )
    catching_up = FollowerStatus(connected=True, pending_since=NOW - 3)
    assert node_tray_line(catching_up, NOW, str) == "Node: catching up"
    silent = FollowerStatus(silent_since=NOW - 300, last_synced_at=NOW - 400)
    assert node_tray_line(silent, NOW, lambda ts: "14:02") == "Node silent since 14:02"


def test_linked_the_node_s_notifications_are_shown_by_the_tray(
    core: Core,
    ctx: GuiContext,
    loop: Loop,
    qtbot: QtBot,
    follow: FakeFollow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link_with_copy(core, ["web1"], synced_at=NOW, now=NOW)
    app = DesktopApp(ctx, tray_available=True)
    qtbot.addWidget(app.window)
    shown: list[Notification] = []
    monkeypatch.setattr(app.notifier, "notify", shown.extend)
    notification = Notification(
        kind=NotificationKind.OPENED, severity=Severity.WARNING, host_name="web1",
        host_address="192.0.2.1", rule="disk", subject="/", title="disk / at 91%",
        message="disk / at 91%", since=int(NOW), at=int(NOW),
    )  # fmt: skip

    async def scenario() -> None:
        app.start(show_window=False, desktop_notifications=False)
        await asyncio.sleep(0)
        await app.watcher.refresh_now()
        assert len(follow.notifiers) == 1
        follow.notifiers[0].notify([notification])

    loop.run(scenario())
    assert shown == [notification]

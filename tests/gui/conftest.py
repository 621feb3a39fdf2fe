"""GUI tests: pytest-qt on the offscreen platform, each with a real database in a temporary
VPSHEALTH_HOME, an in-memory keyring and a qasync loop that is closed at the end."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from tests.gui.memory_keyring import MemoryKeyring
from vpshealth.app import Core, build_core
from vpshealth.clock import SystemClock
from vpshealth.config import Settings
from vpshealth.gui.context import GuiContext
from vpshealth.gui.tasks import TaskRunner
from vpshealth.secrets import SecretStore

os.environ["QT_QPA_PLATFORM"] = "offscreen"

T = TypeVar("T")


@pytest.fixture(autouse=True)
def private_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Start-at-login entries and the like land in the test's folder, never the real one."""
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def core(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Core]:
    settings = Settings(home=tmp_path / "home", warning_percent=85, critical_percent=95)
    built = build_core(settings, secrets=SecretStore(memory_keyring))
    try:
        yield built
    finally:
        built.close()


class Loop:
    """Runs coroutines to completion on the qasync loop (Qt events are processed meanwhile)."""

    def __init__(self, loop: qasync.QEventLoop) -> None:
        self.loop = loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[no-any-return]


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[Loop]:
    qloop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(qloop)
    try:
        yield Loop(qloop)
        qloop.run_until_complete(asyncio.sleep(0))
        pending = [t for t in asyncio.all_tasks(qloop) if not t.done()]
        assert not pending, f"tasks left running at the end of the test: {pending}"
    finally:
        qloop.close()
        asyncio.set_event_loop(None)
        _kill_leftover_timers(qloop)


def _kill_leftover_timers(qloop: qasync.QEventLoop) -> None:
    """qasync starts a Qt timer for every call_later and stops it only when it fires, even
    for cancelled handles and after the loop is closed. Left running, such timers fired during
    later tests (a KeyError in qasync's timerEvent, once a crash). Nothing may run after
    close, so they are stopped here."""
    timer = qloop._timer
    callbacks: dict[int, object] = timer._SimpleTimer__callbacks
    for timer_id in list(callbacks):
        timer.killTimer(timer_id)
    callbacks.clear()


class StoppedClock(SystemClock):
    """Reads one fixed time, the GUI's and the operations' alike; sleeps for real."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


@pytest.fixture
def ctx(core: Core, loop: Loop, qapp: QApplication) -> Iterator[GuiContext]:
    tasks = TaskRunner()
    clock = StoppedClock(1_800_000_000.0)
    core.clock = clock
    context = GuiContext(core, tasks, now=clock.now)
    try:
        yield context
    finally:
        loop.run(tasks.cancel_all())

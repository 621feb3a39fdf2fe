from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from vpshealth.gui.single_instance import SingleInstance, ask_running_instance, server_name


def test_second_start_raises_the_first(tmp_path: Path, qtbot: QtBot) -> None:
    name = server_name(tmp_path / "data")
    assert not ask_running_instance(name)
    first = SingleInstance(name)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.raise_requested, timeout=5000):
            assert ask_running_instance(name)
    finally:
        first.close()
    assert not ask_running_instance(name)


def test_the_name_depends_on_the_data_folder(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a")

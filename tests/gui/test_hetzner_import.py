"""The Import from Hetzner Cloud dialog, against the local test API (see
tests/integration/support/hetzner_api.py for what it models)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.memory_keyring import MemoryKeyring
from tests.integration.support.hetzner_api import FakeServer, HetznerApi
from vpshealth.app import Core
from vpshealth.collectors.hetzner_cloud import HetznerCloud
from vpshealth.gui.context import GuiContext
from vpshealth.gui.hetzner_import import HetznerImportDialog
from vpshealth.gui.main_window import MainWindow
from vpshealth.operations.hetzner import HetznerOperations
from vpshealth.store.hetzner_repository import HetznerRepository


@pytest.fixture
def api() -> Iterator[HetznerApi]:
    api = HetznerApi()
    api.servers = [
        FakeServer(1, "web1", ipv4="127.0.0.31", labels={"env": "prod"}),
        FakeServer(2, "web2", ipv4="127.0.0.32"),
    ]
    yield api
    api.close()


@pytest.fixture
def dialog(
    ctx: GuiContext, core: Core, api: HetznerApi, loop: Loop, qtbot: QtBot
) -> HetznerImportDialog:
    def local_api(token: str, _endpoint: str | None) -> HetznerCloud:
        return HetznerCloud(token, api.endpoint)

    ops = core.operations
    hetzner = HetznerOperations(
        HetznerRepository(core.engine), core.hosts, ops.hosts, core.secrets, local_api
    )
    object.__setattr__(ops, "hetzner", hetzner)
    dialog = HetznerImportDialog(ctx)
    qtbot.addWidget(dialog)
    loop.run(dialog.load())
    return dialog


def test_connect_and_import_then_import_again(
    dialog: HetznerImportDialog,
    core: Core,
    api: HetznerApi,
    loop: Loop,
    memory_keyring: MemoryKeyring,
) -> None:
    assert not dialog.import_button.isEnabled()
    dialog.project_name.setText("web")
    dialog.token.setText("wrong")
    assert not loop.run(dialog.connect_project())
    assert "401 unauthorized" in dialog.error.text()
    dialog.token.setText(api.token)
    assert loop.run(dialog.connect_project())
    assert dialog.token.text() == ""
    assert dialog.import_button.isEnabled()
    assert dialog.projects.currentData() == "web"

    report = loop.run(dialog.run_import())
    assert report is not None
    assert report.count("added") == 2
    text = dialog.report_text.toPlainText()
    assert "web1: added, 127.0.0.31" in text
    assert report.public_line is not None
    assert report.public_line in text
    assert core.operations.hosts.get("web1").host.tags == ("env:prod",)

    api.server(2).ipv4 = "127.0.0.42"
    again = loop.run(dialog.run_import())
    assert again is not None
    assert (again.count("added"), again.count("updated"), again.count("unchanged")) == (0, 1, 1)
    assert "authorized_keys" not in dialog.report_text.toPlainText()


def test_the_main_window_offers_the_import(ctx: GuiContext, qtbot: QtBot) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.hetzner_requested, timeout=1000):
        window.hetzner_action.trigger()
    assert window.hetzner_action.text() == "Import from Hetzner Cloud…"

"""The host editor's connection test and save against the real OpenSSH server."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop, core, ctx, loop, memory_keyring  # noqa: F401 (fixtures)
from tests.integration.support.sshd import SshServer
from vpshealth.app import Core
from vpshealth.gui.context import GuiContext
from vpshealth.gui.host_editor import HostEditor
from vpshealth.operations.host_keys import PresentedKey


def test_connection_test_and_save_against_sshd(
    ssh_server: SshServer,
    core: Core,  # noqa: F811 (the fixture imported above)
    ctx: GuiContext,  # noqa: F811
    loop: Loop,  # noqa: F811
    qtbot: QtBot,
) -> None:
    shown: list[PresentedKey] = []

    def trust(_parent: object, _name: str, key: PresentedKey, pinned: str | None) -> bool:
        assert pinned is None
        shown.append(key)
        return True

    editor = HostEditor(ctx, None, taken_names={"localhost"}, confirm_host_key=trust)
    qtbot.addWidget(editor)
    editor.name.setText("web1")
    editor.address.setText(ssh_server.host)
    editor.port.setText(str(ssh_server.port))
    editor.user.setText(ssh_server.user)
    editor.import_key.setChecked(True)
    editor.key_file.setText(str(ssh_server.client_key_path))

    assert loop.run(editor.test_connection()), editor.outcome.text()
    assert editor.outcome.text().startswith("Reachable, login OK.")
    assert [k.fingerprint for k in shown] == [ssh_server.host_key_fingerprint]

    assert loop.run(editor.save())
    assert len(shown) == 1  # the key confirmed by the test is the one saved, not asked again
    stored = core.hosts.get("web1").host
    assert stored.host_key is not None
    assert stored.host_key.split()[:2] == ssh_server.host_public_key.split()[:2]

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.memory_keyring import MemoryKeyring
from vpshealth.app import Core
from vpshealth.collectors.ssh_keys import generate_ed25519
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.gui.context import GuiContext
from vpshealth.gui.host_editor import HostEditor
from vpshealth.operations.host_keys import PresentedKey
from vpshealth.operations.login_keys import NewKey
from vpshealth.operations.node_edits import EditQueued
from vpshealth.secrets import SERVICE


class Answers:
    """Stands in for the confirmation dialogs; records what they were asked."""

    def __init__(self, trust: bool = True, remove: bool = True) -> None:
        self.trust = trust
        self.remove = remove
        self.host_keys: list[tuple[str, PresentedKey, str | None]] = []
        self.removals: list[str] = []

    def host_key(self, parent: QWidget, name: str, key: PresentedKey, pinned: str | None) -> bool:
        self.host_keys.append((name, key, pinned))
        return self.trust

    def confirm_remove(self, parent: QWidget, name: str) -> bool:
        self.removals.append(name)
        return self.remove


def _editor(ctx: GuiContext, qtbot: QtBot, answers: Answers, record: Any = None) -> HostEditor:
    editor = HostEditor(
        ctx,
        record,
        taken_names={"localhost", "web1"} if record is None else {"localhost", record.host.name},
        confirm_host_key=answers.host_key,
        confirm_remove=answers.confirm_remove,
    )
    qtbot.addWidget(editor)
    return editor


async def _ssh_server() -> tuple[asyncssh.SSHAcceptor, asyncssh.SSHKey]:
    """A real SSH server on loopback that presents a host key and accepts no login."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.listen("127.0.0.1", 0, server_host_keys=[key])
    return server, key


def _in_loop(loop: Loop, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop.run(asyncio.wait_for(scenario(), 60))


def test_inline_messages_per_field(ctx: GuiContext, qtbot: QtBot) -> None:
    editor = _editor(ctx, qtbot, Answers())
    assert editor.errors["name"].text() == "Give the server a short name, e.g. web1."
    assert not editor.save_button.isEnabled()
    qtbot.keyClicks(editor.name, "web1")
    assert editor.errors["name"].text() == "There is already a server named web1."
    editor.name.setText("web 2")
    assert "not allowed: space" in editor.errors["name"].text()
    editor.name.setText("web2")
    assert editor.errors["name"].isHidden()
    editor.address.setText("not_an_address!")
    assert editor.errors["address"].text().startswith("The address contains characters")
    editor.address.setText("203.0.113.10")
    editor.port.setText("70000")
    assert editor.errors["port"].text() == "Enter the SSH port between 1 and 65535."
    editor.port.setText("22")
    editor.interval.setText("2")
    assert editor.errors["interval"].text() == "Enter the interval in seconds between 5 and 3600."
    editor.interval.setText("30")
    editor.tags.setText("prod, bad/tag")
    assert editor.errors["tags"].text().startswith("'bad/tag':")
    editor.tags.setText("prod, hetzner")
    assert editor.save_button.isEnabled()
    assert all(label.isHidden() for label in editor.errors.values())


def test_generated_key_shows_the_authorized_keys_line(ctx: GuiContext, qtbot: QtBot) -> None:
    editor = _editor(ctx, qtbot, Answers())
    editor.name.setText("web2")
    editor.address.setText("203.0.113.10")
    editor.user.setText("deploy")
    editor.generate_key.setChecked(True)
    line = editor.public_key.text()
    assert line.startswith("ssh-ed25519 ")
    assert "/home/deploy/.ssh/authorized_keys on 203.0.113.10" in editor.public_hint.text()
    editor.copy_button.click()
    assert QGuiApplication.clipboard().text() == line


def test_add_with_a_key_file_trusts_the_host_key_and_stores_the_key(
    core: Core,
    ctx: GuiContext,
    loop: Loop,
    qtbot: QtBot,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    private, _ = generate_ed25519("test")
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(private)
    answers = Answers()
    editor = _editor(ctx, qtbot, answers)

    async def scenario() -> None:
        server, host_key = await _ssh_server()
        try:
            port = server.sockets[0].getsockname()[1]
            editor.name.setText("web2")
            editor.address.setText("127.0.0.1")
            editor.port.setText(str(port))
            editor.tags.setText("prod")
            editor.import_key.setChecked(True)
            editor.key_file.setText(str(key_file))
            assert await editor.save()
        finally:
            server.close()
        [(name, key, pinned)] = answers.host_keys
        assert (name, pinned) == ("web2", None)
        assert key.fingerprint == host_key.get_fingerprint("sha256")

    _in_loop(loop, scenario)
    stored = core.hosts.get("web2").host
    assert (stored.address, stored.tags, stored.auth) == ("127.0.0.1", ("prod",), AuthMethod.KEY)
    assert stored.host_key is not None
    assert stored.key_ref is not None
    assert memory_keyring.secrets[(SERVICE, stored.key_ref)] == private


def test_untrusted_host_key_saves_nothing(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    editor = _editor(ctx, qtbot, Answers(trust=False))

    async def scenario() -> None:
        server, _ = await _ssh_server()
        try:
            editor.name.setText("web2")
            editor.address.setText("127.0.0.1")
            editor.port.setText(str(server.sockets[0].getsockname()[1]))
            editor.generate_key.setChecked(True)
            assert not await editor.save()
        finally:
            server.close()

    _in_loop(loop, scenario)
    assert "not trusted" in editor.outcome.text()
    assert core.hosts.find("web2") is None


def test_connection_test_reports_a_refused_login(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    editor = _editor(ctx, qtbot, Answers())

    async def scenario() -> None:
        server, _ = await _ssh_server()
        try:
            editor.name.setText("web2")
            editor.address.setText("127.0.0.1")
            editor.port.setText(str(server.sockets[0].getsockname()[1]))
            editor.user.setText("deploy")
            editor.generate_key.setChecked(True)
            assert not await editor.test_connection()
        finally:
            server.close()

    _in_loop(loop, scenario)
    text = editor.outcome.text()
    assert text.startswith("Connection failed:")
    assert "authorized_keys" in text
    assert "Trusted host key: SHA256:" in editor.host_key_label.text()
    assert editor.progress.isHidden()


def test_unreachable_server_is_explained(ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    editor = _editor(ctx, qtbot, Answers())
    editor.name.setText("web2")
    editor.address.setText("127.0.0.1")
    editor.port.setText(str(port))
    editor.generate_key.setChecked(True)
    assert not loop.run(editor.test_connection())
    assert f"refused the connection on port {port}" in editor.outcome.text()
    assert "firewall" in editor.outcome.text()


def test_edit_and_remove(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    private, public = generate_ed25519("x")
    host = Host(name="web1", address="203.0.113.10", host_key=public)
    fields = host.model_dump(exclude={"host_key"})
    core.operations.hosts.add(fields, NewKey(AuthMethod.KEY, private, None, public), public)
    key_ref = core.hosts.get("web1").host.key_ref
    assert key_ref is not None

    answers = Answers()
    editor = _editor(ctx, qtbot, answers, core.hosts.get("web1"))
    assert editor.keep_key.isChecked()
    editor.interval.setText("60")
    editor.tags.setText("prod db")
    assert loop.run(editor.save())
    edited = core.hosts.get("web1").host
    assert (edited.interval_seconds, edited.tags, edited.key_ref) == (60, ("prod", "db"), key_ref)
    assert answers.host_keys == []  # address unchanged: the trusted key stays

    remover = _editor(ctx, qtbot, answers, core.hosts.get("web1"))
    assert loop.run(remover.remove())
    assert answers.removals == ["web1"]
    assert core.hosts.find("web1") is None
    assert (SERVICE, key_ref) not in memory_keyring.secrets


def test_remove_needs_confirmation(core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    core.hosts.add(Host(name="web1", address="192.0.2.1"))
    editor = _editor(ctx, qtbot, Answers(remove=False), core.hosts.get("web1"))
    assert not loop.run(editor.remove())
    assert core.hosts.find("web1") is not None


def test_the_local_host_only_has_interval_and_tags(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    editor = _editor(ctx, qtbot, Answers(), core.hosts.get("localhost"))
    assert editor.name.isReadOnly()
    for hidden in (editor.address, editor.port, editor.user, editor.key_box, editor.test_button):
        assert hidden.isHidden()
    editor.interval.setText("30")
    assert loop.run(editor.save())
    assert core.hosts.get("localhost").host.interval_seconds == 30


def test_an_edit_queued_for_a_silent_node_is_told_and_the_editor_closes_as_saved(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    core.hosts.add(Host(name="web1", address="192.0.2.1", host_key=generate_ed25519("x")[1]))
    hosts = core.operations.hosts
    assert core.operations.hosts is hosts  # the editor reaches the same object

    def queued(*_args: object, **_kwargs: object) -> None:
        raise EditQueued("host edit web1", "the node does not answer")

    monkeypatch.setattr(hosts, "edit", queued)
    told: list[str] = []
    editor = HostEditor(
        ctx,
        core.hosts.get("web1"),
        taken_names={"localhost", "web1"},
        confirm_host_key=Answers().host_key,
        tell=lambda _parent, text: told.append(text),
    )
    qtbot.addWidget(editor)
    editor.interval.setText("60")
    with qtbot.waitSignal(editor.saved):
        assert loop.run(editor.save())
    assert len(told) == 1
    assert told[0].startswith("host edit web1: the node is not answering")

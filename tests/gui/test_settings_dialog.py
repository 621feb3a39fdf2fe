from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.memory_keyring import MemoryKeyring
from tests.integration.support.procs import free_port
from tests.integration.support.smtp import SmtpServer, make_certificates
from vpshealth.app import Core
from vpshealth.gui.context import GuiContext
from vpshealth.gui.settings_dialog import SettingsDialog
from vpshealth.secrets import SERVICE
from vpshealth.store.settings_repository import SettingsRepository


def _dialog(ctx: GuiContext, loop: Loop, qtbot: QtBot) -> SettingsDialog:
    dialog = SettingsDialog(ctx, "Checks run in this app")
    qtbot.addWidget(dialog)
    loop.run(dialog.load())
    return dialog


def test_email_fields_are_validated_inline(ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    dialog = _dialog(ctx, loop, qtbot)
    assert dialog.save_button.isEnabled()  # no e-mail server: nothing else is required
    dialog.smtp_host.setText("smtp.example.com")
    assert dialog.errors["sender"].text() == "Enter the sender address, e.g. alerts@example.com."
    assert dialog.errors["recipients"].text() == "Enter at least one recipient."
    assert not dialog.save_button.isEnabled()
    dialog.sender_address.setText("alerts@example.com")
    dialog.recipients.setText("ops@example.com, nope")
    assert dialog.errors["recipients"].text() == "Not an e-mail address: nope."
    dialog.recipients.setText("ops@example.com, me@example.com")
    dialog.smtp_port.setText("0")
    assert "between 1 and 65535" in dialog.errors["smtp_port"].text()
    dialog.smtp_port.setText("587")
    dialog.user.setText("alerts")
    dialog.security.setCurrentIndex(dialog.security.findData("none"))
    assert "never sent unencrypted" in dialog.errors["security"].text()
    dialog.security.setCurrentIndex(dialog.security.findData("starttls"))
    dialog.default_interval.setText("1")
    assert "between 5 and 3600" in dialog.errors["default_interval"].text()
    dialog.default_interval.setText("30")
    assert dialog.save_button.isEnabled()


def test_save_writes_the_settings_and_the_password_to_the_keyring(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(ctx, loop, qtbot)
    dialog.smtp_host.setText("smtp.example.com")
    dialog.user.setText("alerts")
    dialog.password.setText("s3cret")
    dialog.sender_address.setText("alerts@example.com")
    dialog.recipients.setText("ops@example.com me@example.com")
    dialog.email_min_severity.setCurrentIndex(dialog.email_min_severity.findData("critical"))
    dialog.desktop_min_severity.setCurrentIndex(dialog.desktop_min_severity.findData("critical"))
    dialog.default_interval.setText("30")
    assert loop.run(dialog.save())
    repo = SettingsRepository(core.engine)
    assert repo.with_prefix("email.") == {
        "smtp_host": "smtp.example.com",
        "smtp_port": 587,
        "security": "starttls",
        "user": "alerts",
        "from": "alerts@example.com",
        "to": ["ops@example.com", "me@example.com"],
        "min_severity": "critical",
    }
    assert repo.get("desktop.min_severity") == "critical"
    assert repo.get("checks.default_interval_seconds") == 30
    assert memory_keyring.secrets[(SERVICE, "smtp/password")] == "s3cret"
    assert "s3cret" not in str(repo.with_prefix(""))

    again = _dialog(ctx, loop, qtbot)
    assert again.smtp_host.text() == "smtp.example.com"
    assert again.recipients.text() == "ops@example.com, me@example.com"
    assert again.password.text() == ""  # never shown; empty keeps it


def test_clearing_the_server_removes_email_settings(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    repo = SettingsRepository(core.engine)
    repo.update({"email.smtp_host": "smtp.example.com", "email.to": ["a@example.com"]}, 1)
    memory_keyring.set_password(SERVICE, "smtp/password", "old")
    dialog = _dialog(ctx, loop, qtbot)
    dialog.smtp_host.clear()
    assert loop.run(dialog.save())
    assert repo.with_prefix("email.") == {}
    assert (SERVICE, "smtp/password") not in memory_keyring.secrets


def test_shows_what_runs_the_checks(ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    dialog = SettingsDialog(ctx, "Checks run by the background service")
    qtbot.addWidget(dialog)
    assert dialog.engine_status.text() == "Checks run by the background service"


def test_send_a_test_email_to_a_real_smtp_server(
    ctx: GuiContext, loop: Loop, qtbot: QtBot, tmp_path: Path
) -> None:
    server = SmtpServer(make_certificates(tmp_path / "certs"))
    server.start()
    try:
        dialog = _dialog(ctx, loop, qtbot)
        dialog.smtp_host.setText(server.host)
        dialog.smtp_port.setText(str(server.port))
        dialog.security.setCurrentIndex(dialog.security.findData("none"))
        dialog.sender_address.setText("alerts@example.com")
        dialog.recipients.setText("ops@example.com")
        assert dialog.test_button.isEnabled()
        assert loop.run(dialog.send_test_email())
        [received] = server.messages
    finally:
        server.stop()
    assert received.recipients == ("ops@example.com",)
    assert "test" in str(received.message["Subject"]).lower()
    assert dialog.message.text().startswith("Sent a test e-mail to ops@example.com")


def test_a_failed_test_email_says_why(ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    dialog = _dialog(ctx, loop, qtbot)
    dialog.smtp_host.setText("127.0.0.1")
    dialog.smtp_port.setText(str(free_port()))
    dialog.security.setCurrentIndex(dialog.security.findData("none"))
    dialog.sender_address.setText("alerts@example.com")
    dialog.recipients.setText("ops@example.com")
    assert not loop.run(dialog.send_test_email())
    assert dialog.message.text().startswith("The test e-mail was not sent:")


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG autostart entry is Linux's")
def test_start_at_login_writes_and_removes_the_autostart_entry(
    ctx: GuiContext, loop: Loop, qtbot: QtBot, private_config_home: Path
) -> None:
    entry = private_config_home / "autostart" / "io.vpshealth.VPSHealth.desktop"
    dialog = _dialog(ctx, loop, qtbot)
    assert not dialog.start_at_login.isChecked()
    dialog.start_at_login.setChecked(True)
    assert loop.run(dialog.save(close=False))
    assert "[Desktop Entry]" in entry.read_text()
    again = _dialog(ctx, loop, qtbot)
    assert again.start_at_login.isChecked(), "the dialog shows what is set"
    again.start_at_login.setChecked(False)
    assert loop.run(again.save(close=False))
    assert not entry.exists()

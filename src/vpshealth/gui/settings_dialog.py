"""Settings: e-mail, alert channels, notification thresholds, the default check interval, and
what runs the checks."""

from __future__ import annotations

import functools

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vpshealth.alerts.email_settings import PREFIX
from vpshealth.errors import ConfigurationError, VpsHealthError
from vpshealth.gui.channel_form import ChannelsBox
from vpshealth.gui.colours import Tone
from vpshealth.gui.context import GuiContext
from vpshealth.gui.engine_owner import EngineMode, mode_text
from vpshealth.gui.field_errors import with_error_line
from vpshealth.gui.sample_email import send_test_email
from vpshealth.gui.settings_values import (
    SECURITY_CHOICES,
    SEVERITY_CHOICES,
    SettingsForm,
    form_from_settings,
    settings_values,
    validate_settings,
)
from vpshealth.gui.theme import text_style
from vpshealth.gui.who_runs_checks import WhoRunsTheChecks
from vpshealth.startup.launch import desktop_command, passed_environment
from vpshealth.startup.login_item import LoginItem, login_item_for_this_os

SECURITY_LABELS = {"starttls": "STARTTLS (port 587)", "tls": "TLS (port 465)", "none": "None"}
SEVERITY_LABELS = {"warning": "Warnings and critical problems", "critical": "Critical only"}


def _combo(parent: QWidget, labels: dict[str, str], choices: tuple[str, ...]) -> QComboBox:
    combo = QComboBox(parent)
    for choice in choices:
        combo.addItem(labels[choice], choice)
    return combo


class SettingsDialog(QDialog):
    saved = Signal()
    checks_moved = Signal()
    """Who runs the checks changed (a node linked or forgotten)."""

    def __init__(  # noqa: PLR0915
        self,
        ctx: GuiContext,
        engine_status: str,
        parent: QWidget | None = None,
        login_item: LoginItem | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._login_item = login_item or login_item_for_this_os(
            desktop_command(), passed_environment()
        )
        self.setWindowTitle("VPS Health settings")
        self.setMinimumWidth(520)
        self.smtp_host = QLineEdit(self)
        self.smtp_host.setPlaceholderText("smtp.example.com (empty: no e-mail)")
        self.smtp_port = QLineEdit("587", self)
        self.security = _combo(self, SECURITY_LABELS, SECURITY_CHOICES)
        self.user = QLineEdit(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Kept in the OS keyring; leave empty to keep it")
        self.sender_address = QLineEdit(self)
        self.sender_address.setPlaceholderText("alerts@example.com")
        self.recipients = QLineEdit(self)
        self.recipients.setPlaceholderText("ops@example.com, me@example.com")
        self.email_min_severity = _combo(self, SEVERITY_LABELS, SEVERITY_CHOICES)
        self.desktop_min_severity = _combo(self, SEVERITY_LABELS, SEVERITY_CHOICES)
        self.default_interval = QLineEdit(self)

        self.errors: dict[str, QLabel] = {}
        email_box = QGroupBox("E-mail alerts", self)
        email_form = QFormLayout(email_box)
        for key, label, widget in (
            ("smtp_host", "SMTP server", self.smtp_host),
            ("smtp_port", "Port", self.smtp_port),
            ("security", "Encryption", self.security),
            ("user", "User", self.user),
            ("password", "Password", self.password),
            ("sender", "From", self.sender_address),
            ("recipients", "To", self.recipients),
            ("email_min_severity", "Send", self.email_min_severity),
        ):
            email_form.addRow(label, self._with_error(key, widget))
        desktop_box = QGroupBox("Desktop notifications and checks", self)
        desktop_form = QFormLayout(desktop_box)
        desktop_form.addRow(
            "Show", self._with_error("desktop_min_severity", self.desktop_min_severity)
        )
        desktop_form.addRow(
            "New servers: check every (s)",
            self._with_error("default_interval", self.default_interval),
        )
        kept = ctx.core.settings
        history = QLabel(
            f"Every sample for {kept.raw_retention_hours:g} hours, minute averages (with "
            f"minimum and maximum) for {kept.minute_retention_days:g} days, hourly ones for "
            f"{kept.hour_retention_days:g} days. Change it with VPSHEALTH_RAW_RETENTION_HOURS, "
            "VPSHEALTH_MINUTE_RETENTION_DAYS and VPSHEALTH_HOUR_RETENTION_DAYS.",
            self,
        )
        history.setWordWrap(True)
        desktop_form.addRow("History", history)
        self.start_at_login = QCheckBox("Start VPS Health when I log in", self)
        desktop_form.addRow("Login", self.start_at_login)
        self.engine_status = QLabel(engine_status, self)
        self.engine_status.setWordWrap(True)
        desktop_form.addRow("Checks", self.engine_status)

        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.test_button = QPushButton("Save and send a test e-mail", self)
        self.test_button.clicked.connect(self.start_test_email)
        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.start_save)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.test_button)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(email_box)
        self.channels = ChannelsBox(ctx, self)
        layout.addWidget(self.channels)
        layout.addWidget(desktop_box)
        self.who_runs_checks = WhoRunsTheChecks(ctx, self)
        self.who_runs_checks.changed.connect(self.checks_moved)
        self.who_runs_checks.changed.connect(self._checks_moved)
        layout.addWidget(self.who_runs_checks)
        layout.addLayout(buttons)
        for edit in (
            self.smtp_host,
            self.smtp_port,
            self.user,
            self.sender_address,
            self.recipients,
            self.default_interval,
        ):
            edit.textChanged.connect(self.show_validation)
        self.security.currentIndexChanged.connect(self.show_validation)

    def _with_error(self, key: str, widget: QWidget) -> QWidget:
        box, self.errors[key] = with_error_line(widget, self)
        return box

    async def load(self) -> None:
        repo = self._ctx.core.stored_settings
        values = await self._ctx.read(functools.partial(repo.with_prefix, ""))
        self.set_form(form_from_settings(values))
        self.start_at_login.setChecked(await self._ctx.read(self._login_item.enabled))
        await self.channels.load()
        await self.who_runs_checks.load()

    def _checks_moved(self) -> None:
        link = self.who_runs_checks.link
        mode = EngineMode.NODE if link is not None else EngineMode.OWNER
        self.engine_status.setText(mode_text(mode, link))

    def set_form(self, form: SettingsForm) -> None:
        self.smtp_host.setText(form.smtp_host)
        self.smtp_port.setText(form.smtp_port)
        self.security.setCurrentIndex(max(0, self.security.findData(form.security)))
        self.user.setText(form.user)
        self.sender_address.setText(form.sender)
        self.recipients.setText(form.recipients)
        self.email_min_severity.setCurrentIndex(
            max(0, self.email_min_severity.findData(form.email_min_severity))
        )
        self.desktop_min_severity.setCurrentIndex(
            max(0, self.desktop_min_severity.findData(form.desktop_min_severity))
        )
        self.default_interval.setText(form.default_interval)
        self.show_validation()

    def form(self) -> SettingsForm:
        return SettingsForm(
            smtp_host=self.smtp_host.text(),
            smtp_port=self.smtp_port.text(),
            security=str(self.security.currentData()),
            user=self.user.text(),
            sender=self.sender_address.text(),
            recipients=self.recipients.text(),
            email_min_severity=str(self.email_min_severity.currentData()),
            desktop_min_severity=str(self.desktop_min_severity.currentData()),
            default_interval=self.default_interval.text(),
            password=self.password.text() or None,
        )

    def show_validation(self) -> dict[str, str]:
        errors = validate_settings(self.form())
        for key, label in self.errors.items():
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)
        self.save_button.setEnabled(not errors)
        self.test_button.setEnabled(not errors and self.form().email_enabled)
        return errors

    def start_save(self) -> None:
        self._ctx.tasks.spawn(self.save(), "Saving the settings")

    def start_test_email(self) -> None:
        self._ctx.tasks.spawn(self.send_test_email(), "Sending a test e-mail")

    async def send_test_email(self) -> bool:
        if not await self.save(close=False):
            return False
        self.message.setStyleSheet("")
        self.message.setText("Sending…")
        self.test_button.setEnabled(False)
        try:
            sent, text = await send_test_email(self._ctx.core)
        finally:
            self.show_validation()
        self.message.setStyleSheet("" if sent else text_style(Tone.CRITICAL))
        self.message.setText(text)
        return sent

    async def save(self, *, close: bool = True) -> bool:
        if self.show_validation():
            return False
        form = self.form()
        core = self._ctx.core
        values = settings_values(form)
        email = {k.removeprefix(PREFIX): v for k, v in values.items() if k.startswith(PREFIX)}
        desktop = {k: v for k, v in values.items() if not k.startswith(PREFIX)}
        try:
            if form.email_enabled:
                await self._ctx.read(
                    functools.partial(core.operations.email.change, email, form.password)
                )
            else:
                await self._ctx.read(functools.partial(core.operations.email.clear, email))
        except ConfigurationError as exc:
            self.message.setStyleSheet(text_style(Tone.CRITICAL))
            self.message.setText(f"The password could not be stored: {exc}")
            return False
        except VpsHealthError as exc:
            self.message.setStyleSheet(text_style(Tone.CRITICAL))
            self.message.setText(str(exc))
            return False
        await self._ctx.read(
            functools.partial(core.stored_settings.update, desktop, int(self._ctx.now()))
        )
        wanted = self.start_at_login.isChecked()
        try:
            await self._ctx.read(self._login_item.enable if wanted else self._login_item.disable)
        except OSError as exc:
            self.message.setStyleSheet(text_style(Tone.CRITICAL))
            self.message.setText(
                f"Start at login could not be changed ({self._login_item.where}): {exc}"
            )
            return False
        self.saved.emit()
        if close:
            self.accept()
        return True

"""The alert channels in Settings: a list with Add, Test, Remove and an on/off switch, and the
Add dialog with a short form per service (see ``channel_urls``) or any Apprise URL. The URL
goes to the operations (and so to the keyring); the list shows only its masked form."""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from vpshealth.domain.channels import ChannelRecord
from vpshealth.errors import VpsHealthError
from vpshealth.gui.channel_urls import KIND_LABELS, ChannelFields, ChannelKind, FormError, build_url
from vpshealth.gui.colours import Tone
from vpshealth.gui.context import GuiContext
from vpshealth.gui.field_errors import with_error_line
from vpshealth.gui.theme import text_style
from vpshealth.operations.errors import FieldError

SEVERITY_LABELS = {"warning": "Warnings and critical problems", "critical": "Critical only"}


def _secret(parent: QWidget, placeholder: str) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


class ChannelForm(QDialog):
    """Add one channel. ``added`` carries the stored record."""

    added = Signal(object)

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle("Add an alert channel")
        self.setMinimumWidth(480)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("phone, team-chat …")
        self.kind = QComboBox(self)
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind.value)
        self.min_severity = QComboBox(self)
        for value, label in SEVERITY_LABELS.items():
            self.min_severity.addItem(label, value)

        self.errors: dict[str, QLabel] = {}
        self.pages = QStackedWidget(self)
        self._page_index: dict[ChannelKind, int] = {}
        self._build_pages()

        top = QFormLayout()
        top.addRow("Name", self._with_error("name", self.name, self))
        top.addRow("Service", self.kind)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setOpenExternalLinks(True)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(text_style(Tone.CRITICAL))
        self.add_button = QPushButton("Add", self)
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.start_add)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.add_button)
        bottom = QFormLayout()
        bottom.addRow("Send", self.min_severity)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.pages)
        layout.addLayout(bottom)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        self.kind.currentIndexChanged.connect(self._show_page)
        self._show_page()

    def _build_pages(self) -> None:
        """One page of fields per service."""
        self.server = QLineEdit("https://ntfy.sh", self)
        self.topic = QLineEdit(self)
        self.topic.setPlaceholderText("a topic only you know, e.g. vps-7f3a9c")
        self.ntfy_token = _secret(self, "optional: an access token (tk_…)")
        self.bot_token = _secret(self, "from @BotFather, like 123456:ABC-def")
        self.chat_id = QLineEdit(self)
        self.chat_id.setPlaceholderText("like 12345678 or -100123456789")
        self.discord_webhook = _secret(self, "https://discord.com/api/webhooks/…")
        self.slack_webhook = _secret(self, "https://hooks.slack.com/services/…")
        self.json_webhook = QLineEdit(self)
        self.json_webhook.setPlaceholderText("https://example.com/alerts")
        self.apprise_url = _secret(self, "any Apprise URL, e.g. pover://USER@TOKEN")

        for kind, rows in (
            (ChannelKind.NTFY, [("server", "Server", self.server), ("topic", "Topic", self.topic),
                                ("token", "Token", self.ntfy_token)]),
            (ChannelKind.TELEGRAM, [("token", "Bot token", self.bot_token),
                                    ("chat_id", "Chat id", self.chat_id)]),
            (ChannelKind.DISCORD, [("webhook", "Webhook URL", self.discord_webhook)]),
            (ChannelKind.SLACK, [("webhook", "Webhook URL", self.slack_webhook)]),
            (ChannelKind.WEBHOOK, [("webhook", "URL", self.json_webhook)]),
            (ChannelKind.APPRISE, [("url", "Apprise URL", self.apprise_url)]),
        ):  # fmt: skip
            page = QWidget(self.pages)
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            for field, label, widget in rows:
                form.addRow(label, self._with_error(f"{kind.value}.{field}", widget, page))
            self._page_index[kind] = self.pages.addWidget(page)

    def _with_error(self, key: str, widget: QWidget, parent: QWidget) -> QWidget:
        box, self.errors[key] = with_error_line(widget, parent)
        return box

    def selected_kind(self) -> ChannelKind:
        return ChannelKind(str(self.kind.currentData()))

    def select_kind(self, kind: ChannelKind) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind.value))

    def _show_page(self) -> None:
        kind = self.selected_kind()
        self.pages.setCurrentIndex(self._page_index[kind])
        self.hint.setText(
            "The address is kept in the OS keyring; the list shows it masked."
            if kind is not ChannelKind.APPRISE
            else 'About 100 services: see <a href="https://github.com/caronc/apprise/wiki">'
            "the Apprise wiki</a> for the URL of yours. It is kept in the OS keyring."
        )
        self._show_errors({})

    def fields(self) -> ChannelFields:
        kind = self.selected_kind()
        webhook = {
            ChannelKind.DISCORD: self.discord_webhook,
            ChannelKind.SLACK: self.slack_webhook,
            ChannelKind.WEBHOOK: self.json_webhook,
        }.get(kind)
        return ChannelFields(
            server=self.server.text(),
            topic=self.topic.text(),
            token=(self.ntfy_token if kind is ChannelKind.NTFY else self.bot_token).text(),
            chat_id=self.chat_id.text(),
            webhook=webhook.text() if webhook is not None else "",
            url=self.apprise_url.text(),
        )

    def url(self) -> str:
        """The Apprise URL the form describes; raises FormError naming a field."""
        return build_url(self.selected_kind(), self.fields())

    def _show_errors(self, errors: dict[str, str]) -> None:
        for key, label in self.errors.items():
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)

    def start_add(self) -> None:
        self._ctx.tasks.spawn(self.add(), "Adding an alert channel")

    async def add(self) -> ChannelRecord | None:
        kind = self.selected_kind()
        self.message.setText("")
        try:
            url = self.url()
        except FormError as exc:
            self._show_errors({f"{kind.value}.{exc.field}": str(exc)})
            return None
        self._show_errors({})
        add = functools.partial(
            self._ctx.core.operations.channels.add,
            self.name.text().strip(),
            url,
            min_severity=str(self.min_severity.currentData()),
        )
        try:
            record = await self._ctx.read(add)
        except FieldError as exc:
            if exc.field == "name":
                self._show_errors({"name": exc.worded("name")})
            else:
                self.message.setText(exc.worded("URL" if exc.field == "url" else exc.field))
            return None
        except VpsHealthError as exc:
            self.message.setText(str(exc))
            return None
        self.added.emit(record)
        self.accept()
        return record


class ChannelsBox(QGroupBox):
    """The channel list of the Settings dialog. Every change is stored at once (not on Save)."""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__("Alert channels (ntfy, Telegram, Discord, Slack, webhooks …)", parent)
        self._ctx = ctx
        self.list = QListWidget(self)
        self.list.setMinimumHeight(90)
        self.enabled = QCheckBox("On", self)
        self.add_button = QPushButton("Add…", self)
        self.test_button = QPushButton("Test", self)
        self.remove_button = QPushButton("Remove", self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for widget in (self.add_button, self.test_button, self.remove_button, self.enabled):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.add_button.clicked.connect(self.open_form)
        self.test_button.clicked.connect(lambda: ctx.tasks.spawn(self.test(), "Testing a channel"))
        self.remove_button.clicked.connect(
            lambda: ctx.tasks.spawn(self.remove(), "Removing a channel")
        )
        self.enabled.clicked.connect(
            lambda on: ctx.tasks.spawn(self.switch(bool(on)), "Switching a channel")
        )
        self.list.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.form: ChannelForm | None = None
        self._selection_changed()

    def selected(self) -> ChannelRecord | None:
        item = self.list.currentItem()
        if item is None:
            return None
        record: ChannelRecord = item.data(Qt.ItemDataRole.UserRole)
        return record

    def _selection_changed(self) -> None:
        record = self.selected()
        for widget in (self.test_button, self.remove_button, self.enabled):
            widget.setEnabled(record is not None)
        self.enabled.setChecked(bool(record and record.enabled))

    async def load(self, select: str | None = None) -> None:
        records = await self._ctx.read(self._ctx.core.operations.channels.list)
        self.list.clear()
        for record in records:
            state = "" if record.enabled else "  (off)"
            item = QListWidgetItem(
                f"{record.name} — {record.service}: {record.masked_url}, "
                f"{record.min_severity.value} and worse{state}"
            )
            item.setData(Qt.ItemDataRole.UserRole, record)
            self.list.addItem(item)
            if record.name == select:
                self.list.setCurrentItem(item)
        if not records:
            self.status.setText("No channels yet: Add… sends alerts to your phone or chat.")
        self._selection_changed()

    def open_form(self) -> ChannelForm:
        self.form = ChannelForm(self._ctx, self)
        self.form.added.connect(
            lambda record: self._ctx.tasks.spawn(self.load(record.name), "Listing channels")
        )
        self.form.open()
        return self.form

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(text_style(Tone.CRITICAL) if error else "")
        self.status.setText(text)

    async def test(self) -> bool:
        record = self.selected()
        if record is None:
            return False
        self._say(f"Sending a test message to {record.name}…")
        try:
            await self._ctx.read(
                functools.partial(self._ctx.core.operations.channels.test, record.name)
            )
        except VpsHealthError as exc:
            self._say(str(exc), error=True)
            return False
        self._say(f"Sent a test message to {record.name}.")
        return True

    async def remove(self) -> None:
        record = self.selected()
        if record is None:
            return
        try:
            await self._ctx.read(
                functools.partial(self._ctx.core.operations.channels.remove, record.name)
            )
        except VpsHealthError as exc:
            self._say(str(exc), error=True)
            return
        self._say(f"Removed {record.name}.")
        await self.load()

    async def switch(self, on: bool) -> None:
        record = self.selected()
        if record is None:
            return
        change = functools.partial(self._ctx.core.operations.channels.set_enabled, record.name, on)
        try:
            await self._ctx.read(change)
        except VpsHealthError as exc:
            self._say(str(exc), error=True)
            return
        self._say(f"{record.name} is {'on' if on else 'off'}.")
        await self.load(record.name)

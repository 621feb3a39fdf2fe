"""Adding and editing a server: fields with inline messages, the login key, a connection test
with host key confirmation (trust on first use), and removal."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.ssh_keys import ClientCredentials, fingerprint_of_line, is_encrypted
from vpshealth.domain.hosts import Host, HostKind
from vpshealth.engine.credentials import CredentialsProvider
from vpshealth.errors import VpsHealthError
from vpshealth.gui.colours import Tone
from vpshealth.gui.connection_test import ADVICE, check_with, credentials_for, result_text
from vpshealth.gui.context import GuiContext
from vpshealth.gui.host_validation import HostForm, split_tags, validate
from vpshealth.gui.theme import text_style
from vpshealth.operations.errors import FieldError, HostKeyUnconfirmed, HostUnreachable
from vpshealth.operations.host_keys import PresentedKey, accept, read_presented_key
from vpshealth.operations.hosts import REMOTE_ONLY_FIELDS
from vpshealth.operations.login_keys import NewKey, agent_key, generated_key, key_from_text
from vpshealth.operations.node_edits import AppliedInPart, EditQueued
from vpshealth.store.host_repository import HostRecord

ConfirmHostKey = Callable[[QWidget, str, PresentedKey, str | None], bool]
"""(parent, server name, the key presented, the fingerprint trusted so far) → trust it?"""
ConfirmRemove = Callable[[QWidget, str], bool]


def ask_host_key(parent: QWidget, name: str, key: PresentedKey, pinned: str | None) -> bool:
    if pinned is None:
        text = (
            f"This is the first connection to {name}. The server presents this host key:\n\n"
            f"{key.algorithm}\n{key.fingerprint}\n\n"
            "Compare it with the server's own (on the server: ssh-keygen -lf "
            "/etc/ssh/ssh_host_ed25519_key.pub). Trust it?"
        )
    else:
        text = (
            f"The host key of {name} has CHANGED.\n\nTrusted so far: {pinned}\n"
            f"Presented now: {key.algorithm} {key.fingerprint}\n\n"
            "Only trust the new key if you know the server was rebuilt or its keys were "
            "replaced; otherwise someone may be intercepting the connection. Trust it?"
        )
    answer = QMessageBox.question(
        parent,
        "Confirm the server's host key",
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_remove(parent: QWidget, name: str) -> bool:
    answer = QMessageBox.question(
        parent,
        f"Remove {name}?",
        f"Remove {name}? Its history is deleted and its login key is removed from the OS "
        "keyring. This cannot be undone.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


def tell_saved(parent: QWidget, text: str) -> None:
    QMessageBox.information(parent, "Saved on the node", text)


def authorized_keys_hint(user: str, address: str) -> str:
    home = "/root" if user == "root" else f"/home/{user}"
    return (
        f"Append this line to {home}/.ssh/authorized_keys on {address or 'the server'} "
        "(one line, as shown), then test the connection:"
    )


class HostEditor(QDialog):
    saved = Signal(str)
    removed = Signal(str)

    def __init__(  # noqa: PLR0915
        self,
        ctx: GuiContext,
        record: HostRecord | None = None,
        *,
        taken_names: set[str] | None = None,
        default_interval: int = 15,
        confirm_host_key: ConfirmHostKey = ask_host_key,
        confirm_remove: ConfirmRemove = ask_remove,
        tell: Callable[[QWidget, str], None] = tell_saved,
        parent: QWidget | None = None,
    ) -> None:
        """``tell`` says what became of an edit for a node that it queued or applied in
        part; the editor then closes as saved."""
        super().__init__(parent)
        self._ctx = ctx
        self._record = record
        self._original = record.host if record else None
        self._local = bool(record and record.host.kind is HostKind.LOCAL)
        self._taken = (taken_names or set()) - ({record.host.name} if record else set())
        self._confirm_host_key = confirm_host_key
        self._confirm_remove = confirm_remove
        self._tell = tell
        self._host_key_line = record.host.host_key if record else None
        self._generated: NewKey | None = None
        self._busy = False
        self.setWindowTitle(f"Edit {record.host.name}" if record else "Add a server")
        self.setMinimumWidth(560)

        host = record.host if record else None
        self.name = QLineEdit(host.name if host else "", self)
        self.name.setPlaceholderText("web1")
        self.address = QLineEdit(host.address if host and not self._local else "", self)
        self.address.setPlaceholderText("203.0.113.10 or web1.example.com")
        self.port = QLineEdit(str(host.port) if host else "22", self)
        self.user = QLineEdit(host.user if host else "root", self)
        self.interval = QLineEdit(
            str(host.interval_seconds) if host else str(default_interval), self
        )
        self.tags = QLineEdit(" ".join(host.tags) if host else "", self)
        self.tags.setPlaceholderText("production, hetzner")
        self.docker_socket = QLineEdit(host.docker_socket if host else "/var/run/docker.sock", self)
        self.enabled = QCheckBox("Check this server", self)
        self.enabled.setChecked(host.enabled if host else True)

        self.errors: dict[str, QLabel] = {}
        self._row_labels: dict[str, QLabel] = {}
        form = QFormLayout()
        fields: list[tuple[str, str, QWidget]] = [
            ("name", "Name", self.name),
            ("address", "Address", self.address),
            ("port", "SSH port", self.port),
            ("user", "User", self.user),
            ("interval", "Check every (seconds)", self.interval),
            ("tags", "Tags", self.tags),
            ("docker_socket", "Docker socket", self.docker_socket),
        ]
        for key, label, widget in fields:
            error = QLabel(self)
            error.setStyleSheet(text_style(Tone.CRITICAL))
            error.setWordWrap(True)
            error.hide()
            self.errors[key] = error
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(error)
            row_label = QLabel(label, self)
            self._row_labels[key] = row_label
            form.addRow(row_label, box)
            if isinstance(widget, QLineEdit):
                widget.textChanged.connect(self.show_validation)
        form.addRow("", self.enabled)
        if self._local:
            self.name.setReadOnly(True)
            for key in ("address", "port", "user", "docker_socket"):
                for widget in (getattr(self, key), self.errors[key], self._row_labels[key]):
                    widget.hide()

        self.key_box = self._build_key_box(editing=record is not None)
        self.host_key_label = QLabel(self)
        self.host_key_label.setWordWrap(True)
        self.host_key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._show_host_key()

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.outcome = QLabel(self)
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.start_test)
        self.remove_button = QPushButton("Remove…", self)
        self.remove_button.clicked.connect(self.start_remove)
        self.remove_button.setVisible(record is not None)
        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.start_save)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.key_box)
        layout.addWidget(self.host_key_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.outcome)
        layout.addLayout(buttons)
        if self._local:
            self.key_box.hide()
            self.host_key_label.hide()
            self.test_button.hide()
            self.remove_button.hide()
        self.show_validation()

    # --- the login key -------------------------------------------------------------------

    def _build_key_box(self, *, editing: bool) -> QGroupBox:  # noqa: PLR0915
        box = QGroupBox("Login key", self)
        self.key_choice = QButtonGroup(self)
        self.keep_key = QRadioButton("Keep the current login", box)
        self.import_key = QRadioButton("Import a private key file", box)
        self.generate_key = QRadioButton("Generate a new ed25519 key", box)
        self.agent_key = QRadioButton("Use the SSH agent", box)
        agent_running = bool(os.environ.get("SSH_AUTH_SOCK"))
        self.agent_key.setEnabled(agent_running)
        if not agent_running:
            self.agent_key.setToolTip("No SSH agent is running in this session.")
        for button in (self.keep_key, self.import_key, self.generate_key, self.agent_key):
            self.key_choice.addButton(button)
        self.keep_key.setVisible(editing)
        (self.keep_key if editing else self.import_key).setChecked(True)

        self.key_file = QLineEdit(box)
        self.key_file.setPlaceholderText(str(Path("~/.ssh/id_ed25519").expanduser()))
        browse = QPushButton("Browse…", box)
        browse.clicked.connect(self._browse)
        self.passphrase = QLineEdit(box)
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase, if the key has one")
        self.public_key = QLineEdit(box)
        self.public_key.setReadOnly(True)
        self.copy_button = QPushButton("Copy public key", box)
        self.copy_button.clicked.connect(self._copy_public_key)
        self.public_hint = QLabel(box)
        self.public_hint.setWordWrap(True)
        self.key_error = QLabel(box)
        self.key_error.setStyleSheet(text_style(Tone.CRITICAL))
        self.key_error.setWordWrap(True)
        self.key_error.hide()

        file_row = QHBoxLayout()
        file_row.addWidget(self.key_file, 1)
        file_row.addWidget(browse)
        public_row = QHBoxLayout()
        public_row.addWidget(self.public_key, 1)
        public_row.addWidget(self.copy_button)
        self._import_widgets: list[QWidget] = [self.key_file, browse, self.passphrase]
        self._generate_widgets: list[QWidget] = [
            self.public_key,
            self.copy_button,
            self.public_hint,
        ]

        layout = QVBoxLayout(box)
        layout.addWidget(self.keep_key)
        layout.addWidget(self.import_key)
        layout.addLayout(file_row)
        layout.addWidget(self.passphrase)
        layout.addWidget(self.generate_key)
        layout.addWidget(self.public_hint)
        layout.addLayout(public_row)
        layout.addWidget(self.agent_key)
        layout.addWidget(self.key_error)
        self.key_choice.buttonToggled.connect(self._key_choice_changed)
        self.user.textChanged.connect(self._update_public_hint)
        self.address.textChanged.connect(self._update_public_hint)
        self._key_choice_changed()
        return box

    def _key_choice_changed(self, *_: object) -> None:
        for widget in self._import_widgets:
            widget.setVisible(self.import_key.isChecked())
        generating = self.generate_key.isChecked()
        if generating and self._generated is None:
            self._generated = generated_key(self.name.text().strip() or "server")
            self.public_key.setText(self._generated.public_line or "")
        for widget in self._generate_widgets:
            widget.setVisible(generating)
        self._update_public_hint()
        self.key_error.hide()

    def _update_public_hint(self) -> None:
        self.public_hint.setText(
            authorized_keys_hint(self.user.text().strip(), self.address.text().strip())
        )

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose the private key", str(Path("~/.ssh").expanduser())
        )
        if path:
            self.key_file.setText(path)

    def _copy_public_key(self) -> None:
        QGuiApplication.clipboard().setText(self.public_key.text())
        self.outcome.setText("Public key copied.")

    def _read_key(self) -> NewKey | None:
        """The key chosen, or None to keep the current login. Raises FieldError."""
        if self.keep_key.isChecked():
            return None
        if self.agent_key.isChecked():
            return agent_key()
        if self.generate_key.isChecked():
            assert self._generated is not None
            return self._generated
        path_text = self.key_file.text().strip()
        if not path_text:
            raise FieldError("private_key", "choose the private key file to import")
        path = Path(path_text).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FieldError("private_key", f"{path} does not exist") from None
        except (OSError, UnicodeDecodeError):
            raise FieldError("private_key", f"{path} cannot be read as a key file") from None
        passphrase = self.passphrase.text() or None
        if is_encrypted(text) and passphrase is None:
            raise FieldError("passphrase", "this key is encrypted: enter its passphrase")
        return key_from_text(text, passphrase)

    # --- validation ------------------------------------------------------------------------

    def form(self) -> HostForm:
        return HostForm(
            name=self.name.text(),
            address=self.address.text(),
            port=self.port.text(),
            user=self.user.text(),
            interval=self.interval.text(),
            tags=self.tags.text(),
            docker_socket=self.docker_socket.text(),
        )

    def show_validation(self) -> dict[str, str]:
        errors = validate(self.form(), taken_names=self._taken, local=self._local)
        for key, label in self.errors.items():
            message = errors.get(key)
            label.setText(message or "")
            label.setVisible(
                bool(message) and (key in ("name", "interval", "tags") or not self._local)
            )
        self.save_button.setEnabled(not errors and not self._busy)
        self.test_button.setEnabled(not errors and not self._busy)
        return errors

    def draft(self) -> Host:
        """The host as the fields describe it (fields must be valid)."""
        f = self.form()
        base = self._original.model_dump() if self._original else {}
        fields = {
            **base,
            "name": f.name.strip(),
            "interval_seconds": int(f.interval),
            "tags": tuple(split_tags(f.tags)),
            "enabled": self.enabled.isChecked(),
        }
        if not self._local:
            fields.update(
                kind=HostKind.SSH,
                address=f.address.strip(),
                port=int(f.port),
                user=f.user.strip(),
                docker_socket=f.docker_socket.strip(),
                host_key=self._host_key_line,
            )
        return Host(**fields)

    # --- host key ----------------------------------------------------------------------------

    def _show_host_key(self) -> None:
        if self._host_key_line is None:
            self.host_key_label.setText("Host key: not confirmed yet (Test connection reads it).")
            return
        self.host_key_label.setText(f"Trusted host key: {fingerprint_of_line(self._host_key_line)}")

    async def _confirm_key(self, host: Host) -> bool:
        """Read the server's host key and have it confirmed unless it is the trusted one."""
        timeout = self._ctx.core.settings.connect_timeout
        pinned_line = self._host_key_line
        try:
            key = await read_presented_key(host.name, host.address, host.port, timeout, pinned_line)
        except HostUnreachable as exc:
            advice = ADVICE.get(exc.problem, "")
            self._show_result(False, f"Cannot reach {host.name}: {exc.reason}. {advice}".strip())
            return False
        try:
            accept(key, None, pinned_line, name=host.name, address=host.address, port=host.port)
        except HostKeyUnconfirmed:
            pass
        else:
            return True
        pinned = fingerprint_of_line(self._host_key_line) if self._host_key_line else None
        if not self._confirm_host_key(self, host.name, key, pinned):
            self._show_result(
                False, "The host key was not trusted, so nothing was tested or saved."
            )
            return False
        self._host_key_line = key.line
        self._show_host_key()
        return True

    # --- actions -------------------------------------------------------------------------

    def _set_busy(self, busy: bool, what: str = "") -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        if busy:
            self.outcome.setStyleSheet("")
            self.outcome.setText(what)
        self.remove_button.setEnabled(not busy)
        self.show_validation()

    def _show_result(self, ok: bool, text: str) -> None:
        self.outcome.setStyleSheet(text_style(Tone.OK if ok else Tone.CRITICAL))
        self.outcome.setText(text)

    def start_test(self) -> None:
        self._ctx.tasks.spawn(self.test_connection(), "Testing the connection")

    async def test_connection(self) -> bool:
        if self.show_validation():
            return False
        self.key_error.hide()
        try:
            key = self._read_key()
        except FieldError as exc:
            self._show_key_error(exc.problem)
            return False
        self._set_busy(True, "Connecting…")
        try:
            host = self.draft()
            if not await self._confirm_key(host):
                return False
            host = self.draft()
            self.outcome.setText("Logging in and running a check…")
            try:
                credentials = await self._credentials(host, key)
            except CollectionError as exc:
                self._show_result(False, f"{exc.message}. {ADVICE.get(exc.problem, '')}".strip())
                return False
            result = await check_with(self._ctx.core, host, credentials)
            ok, text = result_text(result)
            self._show_result(ok, text)
            return ok
        finally:
            self._set_busy(False)

    async def _credentials(self, host: Host, key: NewKey | None) -> ClientCredentials:
        """The key chosen in the editor, or the stored login when it is kept."""
        if key is not None:
            return credentials_for(key.auth, key.private_key, key.passphrase)
        return await CredentialsProvider(self._ctx.core.secrets).for_host(host)

    def _show_key_error(self, message: str) -> None:
        self.key_error.setText(message[:1].upper() + message[1:] + ".")
        self.key_error.show()

    def start_save(self) -> None:
        self._ctx.tasks.spawn(self.save(), "Saving the server")

    async def save(self) -> bool:
        if self.show_validation():
            return False
        self.key_error.hide()
        try:
            key = self._read_key()
        except FieldError as exc:
            self._show_key_error(exc.problem)
            return False
        if self._original is None and key is None:
            self._show_key_error("choose a login key")
            return False
        self._set_busy(True, "Saving…")
        try:
            host = self.draft()
            if (
                not self._local
                and (
                    self._host_key_line is None
                    or (
                        self._original is not None
                        and (
                            host.address != self._original.address
                            or host.port != self._original.port
                        )
                    )
                )
                and not await self._confirm_key(host)
            ):
                return False
            host = self.draft()
            hosts = self._ctx.core.operations.hosts
            try:
                if self._original is None:
                    assert key is not None
                    assert host.host_key is not None
                    fields = host.model_dump(exclude={"auth", "key_ref", "host_key"})
                    await self._ctx.read(functools.partial(hosts.add, fields, key, host.host_key))
                else:
                    new_host_key = (
                        host.host_key if host.host_key != self._original.host_key else None
                    )
                    changes = host.model_dump(exclude=self._not_edited())
                    await self._ctx.read(
                        functools.partial(
                            hosts.edit, self._original.name, changes, key, new_host_key
                        )
                    )
            except (EditQueued, AppliedInPart) as exc:
                self._tell(self, str(exc))
            except VpsHealthError as exc:
                self._show_result(False, str(exc))
                return False
        finally:
            self._set_busy(False)
        self.saved.emit(host.name)
        self.accept()
        return True

    def _not_edited(self) -> set[str]:
        """The fields the editor leaves to the key and host key choices (and, for this
        computer, those it does not have)."""
        kept = {"auth", "key_ref", "host_key", "kind"}
        return kept | set(REMOTE_ONLY_FIELDS) if self._local else kept

    def start_remove(self) -> None:
        self._ctx.tasks.spawn(self.remove(), "Removing the server")

    async def remove(self) -> bool:
        if self._original is None or not self._confirm_remove(self, self._original.name):
            return False
        self._set_busy(True, "Removing…")
        try:
            hosts = self._ctx.core.operations.hosts
            await self._ctx.read(functools.partial(hosts.remove, self._original.name))
        except EditQueued as exc:
            self._tell(self, str(exc))
        except VpsHealthError as exc:
            self._show_result(False, str(exc))
            return False
        finally:
            self._set_busy(False)
        self.removed.emit(self._original.name)
        self.accept()
        return True

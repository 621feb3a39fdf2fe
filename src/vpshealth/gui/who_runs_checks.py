"""Settings → Who runs the checks: this computer, or a VPS Health node reached over SSH (or
https) with a token. Connecting checks the node first and saves nothing on an error; going
back to this computer forgets the link (the local copy stays)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from vpshealth.collectors.ssh_keys import fingerprint_of_line
from vpshealth.errors import VpsHealthError
from vpshealth.gui.colours import Tone
from vpshealth.gui.context import GuiContext
from vpshealth.gui.field_errors import with_error_line
from vpshealth.gui.host_editor import ConfirmHostKey, ask_host_key
from vpshealth.gui.theme import text_style
from vpshealth.operations.errors import NOTHING_SAVED, FieldError, HostKeyUnconfirmed
from vpshealth.operations.host_keys import accept, read_presented_key
from vpshealth.operations.login_keys import NewKey, agent_key, generated_key, key_from_text
from vpshealth.sync.node_address import DEFAULT_API_PORT, NodeAddress, NodeAddressError
from vpshealth.sync.node_link import NodeLink
from vpshealth.sync.node_session import NodeError

ConfirmDisconnect = Callable[[QWidget, NodeLink], bool]

FIELD_OF = {"auth": "login", "private_key": "login", "host_key": "address"}
"""Where an operation's error on a field is shown."""
LABELS = {"login": "SSH login"}


def address_text(typed: str) -> str:
    """``user@host[:port]`` as typed here is an SSH address; a URL stays as it is."""
    typed = typed.strip()
    return typed if "://" in typed or not typed else f"ssh://{typed}"


def ask_disconnect(parent: QWidget, link: NodeLink) -> bool:
    answer = QMessageBox.question(
        parent,
        "Run the checks on this computer?",
        f"Stop using {link.name}? This computer runs the checks again, and its token is "
        "deleted from the keyring. The local copy is kept.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


class WhoRunsTheChecks(QGroupBox):
    changed = Signal()
    """The link was saved or forgotten: whoever runs the checks must change."""

    def __init__(  # noqa: PLR0915
        self,
        ctx: GuiContext,
        parent: QWidget | None = None,
        *,
        confirm_host_key: ConfirmHostKey = ask_host_key,
        confirm_disconnect: ConfirmDisconnect = ask_disconnect,
    ) -> None:
        super().__init__("Who runs the checks", parent)
        self._ctx = ctx
        self._confirm_host_key = confirm_host_key
        self._confirm_disconnect = confirm_disconnect
        self._link: NodeLink | None = None
        self._generated: NewKey | None = None

        self.this_computer = QRadioButton("This computer", self)
        self.node = QRadioButton("A VPS Health node", self)
        choice = QButtonGroup(self)
        choice.addButton(self.this_computer)
        choice.addButton(self.node)
        self.this_computer.setChecked(True)
        self.status = QLabel(self)
        self.status.setWordWrap(True)

        self.address = QLineEdit(self)
        self.address.setPlaceholderText("root@node.example.com[:22] or https://node.example.com")
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("vpshealth api token create NAME, on the node")
        self.api_port = QLineEdit(self)
        self.api_port.setPlaceholderText(
            f"{DEFAULT_API_PORT} (the port of `vpshealth service --api 127.0.0.1:PORT` there)"
        )
        self.key_file_choice = QRadioButton("Key file", self)
        self.key_file = QLineEdit(self)
        self.key_file.setPlaceholderText("~/.ssh/id_ed25519")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        self.generate_choice = QRadioButton("Generate a new key", self)
        self.agent_choice = QRadioButton("Use the SSH agent", self)
        logins = QButtonGroup(self)
        for button in (self.key_file_choice, self.generate_choice, self.agent_choice):
            logins.addButton(button)
        self.key_file_choice.setChecked(True)
        self.host_key = QLabel("Host key: read and confirmed when you connect.", self)
        self.host_key.setWordWrap(True)
        self.connect_button = QPushButton("Connect", self)
        self.connect_button.clicked.connect(self.start_connect)
        self.outcome = QLabel(self)
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.errors: dict[str, QLabel] = {}
        self.node_fields = QWidget(self)
        form = QFormLayout(self.node_fields)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Address", self._with_error("address", self.address))
        form.addRow("Token", self._with_error("token", self.token))
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_file_choice)
        key_row.addWidget(self.key_file, 1)
        key_row.addWidget(browse)
        login = QWidget(self)
        login_layout = QVBoxLayout(login)
        login_layout.setContentsMargins(0, 0, 0, 0)
        login_layout.addLayout(key_row)
        login_layout.addWidget(self.generate_choice)
        login_layout.addWidget(self.agent_choice)
        self.login = login
        form.addRow("SSH login", self._with_error("login", login))
        form.addRow("API port", self._with_error("api_port", self.api_port))
        form.addRow("", self.host_key)
        buttons = QHBoxLayout()
        buttons.addWidget(self.outcome, 1)
        buttons.addWidget(self.connect_button)
        form.addRow(buttons)
        self.take_over = QCheckBox("Take over the checks while the node is silent", self)
        self.take_over.setToolTip(
            "This computer checks the servers it can log in to (ssh-agent, or a key in its "
            "keyring) while the node does not answer, alerting with its own e-mail, and hands "
            "the checks back when the node returns; nothing is e-mailed twice."
        )
        self.take_over.toggled.connect(self._take_over_changed)
        form.addRow("", self.take_over)

        layout = QVBoxLayout(self)
        choices = QHBoxLayout()
        choices.addWidget(self.this_computer)
        choices.addWidget(self.node)
        choices.addStretch(1)
        layout.addLayout(choices)
        layout.addWidget(self.status)
        layout.addWidget(self.node_fields)
        self.this_computer.toggled.connect(self._choice_changed)
        self.address.textChanged.connect(self._address_changed)
        self._choice_changed()

    def _with_error(self, key: str, widget: QWidget) -> QWidget:
        box, self.errors[key] = with_error_line(widget, self)
        return box

    @property
    def link(self) -> NodeLink | None:
        """The node this computer is linked to, as last read or saved here."""
        return self._link

    async def load(self) -> None:
        nodes = self._ctx.core.operations.node
        self._show_link(await self._ctx.read(nodes.current))
        taking_over = await self._ctx.read(nodes.take_over)
        self.take_over.blockSignals(True)
        self.take_over.setChecked(taking_over)
        self.take_over.blockSignals(False)

    def _take_over_changed(self, on: bool) -> None:
        nodes = self._ctx.core.operations.node
        self._ctx.tasks.spawn(
            self._ctx.read(functools.partial(nodes.set_take_over, on)),
            "Saving whether this computer takes over",
        )

    def _show_link(self, link: NodeLink | None) -> None:
        self._link = link
        self.this_computer.blockSignals(True)
        (self.node if link is not None else self.this_computer).setChecked(True)
        self.this_computer.blockSignals(False)
        if link is None:
            self.status.setText("The checks run on this computer (in this app or its service).")
        else:
            self.status.setText(
                f"The checks run on {link.name}; this app shows its copy and keeps it in sync."
            )
            self.address.setText(link.address.text)
            if link.address.is_ssh and link.address.api_port != DEFAULT_API_PORT:
                self.api_port.setText(str(link.address.api_port))
            self.token.clear()
            self.token.setPlaceholderText("Kept in the keyring; give a new one to connect again")
            if link.host_key:
                self.host_key.setText(f"Trusted host key: {fingerprint_of_line(link.host_key)}")
        self._choice_changed()

    def _choice_changed(self, *_: object) -> None:
        self.node_fields.setVisible(self.node.isChecked())
        if self.this_computer.isChecked() and self._link is not None:
            self._ctx.tasks.spawn(self.forget_node(), "Disconnecting from the node")

    def _address_changed(self, text: str) -> None:
        https = text.strip().lower().startswith(("https://", "http://"))
        self.login.setEnabled(not https)
        self.api_port.setEnabled(not https)
        self.errors["address"].hide()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose the SSH key for the node", str(Path.home() / ".ssh")
        )
        if path:
            self.key_file.setText(path)

    # --- connect ------------------------------------------------------------------------

    def show_error(self, field: str, text: str) -> None:
        """One line under the field (the others cleared)."""
        for key, label in self.errors.items():
            label.setText(text if key == field else "")
            label.setVisible(key == field)

    def _clear_errors(self) -> None:
        for label in self.errors.values():
            label.hide()

    def _show_outcome(self, ok: bool, text: str) -> None:
        self.outcome.setStyleSheet(text_style(Tone.OK if ok else Tone.CRITICAL))
        self.outcome.setText(text)

    def start_connect(self) -> None:
        self._ctx.tasks.spawn(self.connect_node(), "Connecting to the node")

    async def connect_node(self) -> bool:
        """Check the node and save the link; False (nothing saved) with the error shown."""
        nodes = self._ctx.core.operations.node
        self._clear_errors()
        self.outcome.clear()
        typed = address_text(self.address.text())
        port = self.api_port.text().strip()
        try:
            if port and not port.isdigit():
                raise NodeAddressError("api_port", f"{port!r} is not a port from 1 to 65535.")
            ssh = typed.startswith("ssh://")
            address = nodes.address(typed, int(port) if port and ssh else None)
        except NodeAddressError as exc:
            api_port = exc.field == "api_port"
            shown = f"{exc.problem} {NOTHING_SAVED}" if api_port else str(exc)
            self.show_error("api_port" if api_port else "address", shown)
            return False
        if not self.token.text().strip():
            self.show_error(
                "token", "Give the node's API token (`vpshealth api token create NAME` there)."
            )
            return False
        self.connect_button.setEnabled(False)
        self._show_outcome(True, "Connecting…")
        try:
            key, host_key = None, None
            if address.is_ssh:
                key = await self._login_key()
                host_key = await self._confirmed_host_key(address)
                if host_key is None:
                    self._show_outcome(False, f"The host key was not trusted. {NOTHING_SAVED}")
                    return False
            connected = await nodes.connect(address, self.token.text(), key=key, host_key=host_key)
        except FieldError as exc:
            self.outcome.clear()
            field = FIELD_OF.get(exc.field, exc.field)
            self.show_error(field, exc.worded(LABELS.get(field, field)))
            return False
        except (NodeError, VpsHealthError, OSError) as exc:
            self.outcome.clear()
            self.show_error("address", str(exc))
            return False
        finally:
            self.connect_button.setEnabled(True)
        self.token.clear()
        self._show_link(connected.link)
        if connected.health is None and key is not None:
            self._show_outcome(
                True,
                f"Saved. Append this line to ~/.ssh/authorized_keys of {address.user or 'root'} "
                f"on {address.host}:\n{key.public_line}",
            )
        else:
            health = connected.health
            count = health.hosts if health is not None else None
            hosts = "" if count is None else f", {count} host{'s' if count != 1 else ''}"
            self._show_outcome(True, f"Connected to {connected.link.name}{hosts}.")
        self.changed.emit()
        return True

    async def _login_key(self) -> NewKey:
        if self.agent_choice.isChecked():
            return agent_key()
        if self.generate_choice.isChecked():
            if self._generated is None:
                self._generated = generated_key("node")
            return self._generated
        path = Path(self.key_file.text().strip()).expanduser()
        if not self.key_file.text().strip():
            raise FieldError("login", "choose a key file, generate a key or use the SSH agent")
        try:
            text = await self._ctx.read(path.read_text)
        except (OSError, UnicodeDecodeError) as exc:
            raise FieldError("login", f"cannot read {path}: {exc}") from None
        return key_from_text(text, self._ctx.core.settings.key_passphrase)

    async def _confirmed_host_key(self, address: NodeAddress) -> str | None:
        """The node's host key line, confirmed by the user unless it is the one pinned."""
        nodes = self._ctx.core.operations.node
        name = f"the node {address.text}"
        pinned = await self._ctx.read(functools.partial(nodes.pinned_host_key, address))
        timeout = self._ctx.core.settings.connect_timeout
        presented = await read_presented_key(name, address.host, address.port, timeout, pinned)
        try:
            return accept(
                presented, None, pinned, name=name, address=address.host, port=address.port
            )
        except HostKeyUnconfirmed:
            pass
        shown = fingerprint_of_line(pinned) if pinned else None
        if not self._confirm_host_key(self, name, presented, shown):
            return None
        self.host_key.setText(f"Host key to trust: {presented.fingerprint}")
        return presented.line

    # --- back to this computer -----------------------------------------------------------

    async def forget_node(self) -> bool:
        link = self._link
        if link is None:
            return False
        if not self._confirm_disconnect(self, link):
            self._show_link(link)
            return False
        await self._ctx.read(self._ctx.core.operations.node.disconnect)
        self._show_link(None)
        self._show_outcome(True, f"Forgot {link.name}. The local copy is kept.")
        self.changed.emit()
        return True

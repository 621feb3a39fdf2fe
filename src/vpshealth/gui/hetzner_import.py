"""Import from Hetzner Cloud: connect a project with its read-only API token, then create or
update a host for each of its servers."""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from vpshealth.errors import VpsHealthError
from vpshealth.gui.colours import Tone
from vpshealth.gui.context import GuiContext
from vpshealth.gui.theme import text_style
from vpshealth.operations.errors import FieldError
from vpshealth.operations.hetzner import ImportReport
from vpshealth.operations.login_keys import NewKey, generated_key, key_from_text

ALL_PROJECTS = ""


class HetznerImportDialog(QDialog):
    imported = Signal()

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle("Import from Hetzner Cloud")
        self.setMinimumWidth(560)
        connect_box = self._connect_box()
        import_box = self._import_box()
        self.error = QLabel(self)
        self.error.setStyleSheet(text_style(Tone.CRITICAL))
        self.error.setWordWrap(True)
        self.report_text = QPlainTextEdit(self)
        self.report_text.setReadOnly(True)
        self.report_text.setPlaceholderText("What the import did appears here.")
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(connect_box)
        layout.addWidget(import_box)
        layout.addWidget(self.error)
        layout.addWidget(self.report_text, 1)
        layout.addWidget(close)

    def _connect_box(self) -> QGroupBox:
        connect_box = QGroupBox("Connect a project", self)
        connect_form = QFormLayout(connect_box)
        self.project_name = QLineEdit(self)
        self.project_name.setPlaceholderText("a short name, e.g. web")
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("read-only token: Cloud Console > Security > API tokens")
        self.connect_button = QPushButton("Connect", self)
        self.connect_button.clicked.connect(self._connect_clicked)
        connect_form.addRow("Project", self.project_name)
        connect_form.addRow("API token", self.token)
        connect_form.addRow("", self.connect_button)
        note = QLabel("The token is kept in the OS keyring, never in the database.", self)
        note.setWordWrap(True)
        connect_form.addRow("", note)
        return connect_box

    def _import_box(self) -> QGroupBox:
        import_box = QGroupBox("Import servers", self)
        import_form = QFormLayout(import_box)
        self.projects = QComboBox(self)
        self.label_selector = QLineEdit(self)
        self.label_selector.setPlaceholderText("optional, e.g. env=prod")
        self.generate_key = QRadioButton("Create a new key for the new servers", self)
        self.generate_key.setChecked(True)
        self.use_key_file = QRadioButton("Use this private key:", self)
        self.key_file = QLineEdit(self)
        self.key_file.setPlaceholderText("~/.ssh/id_ed25519")
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        key_row = QHBoxLayout()
        key_row.addWidget(self.use_key_file)
        key_row.addWidget(self.key_file, 1)
        key_row.addWidget(browse)
        self.trust_host_keys = QCheckBox(
            "Trust each new server's host key now (trust on first use)", self
        )
        self.import_button = QPushButton("Import", self)
        self.import_button.clicked.connect(self._import_clicked)
        import_form.addRow("Project", self.projects)
        import_form.addRow("Labels", self.label_selector)
        import_form.addRow("Login key", self.generate_key)
        import_form.addRow("", key_row)
        import_form.addRow("Host keys", self.trust_host_keys)
        import_form.addRow("", self.import_button)
        return import_box

    async def load(self) -> None:
        hetzner = self._ctx.core.operations.hetzner
        projects = await self._ctx.read(hetzner.projects)
        self.projects.clear()
        if len(projects) > 1:
            self.projects.addItem("Every project", ALL_PROJECTS)
        for project in projects:
            self.projects.addItem(f"{project.name} ({project.hosts} hosts)", project.name)
        self.import_button.setEnabled(bool(projects))

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Private key", str(Path.home() / ".ssh"))
        if path:
            self.key_file.setText(path)
            self.use_key_file.setChecked(True)

    def _connect_clicked(self) -> None:
        self._ctx.tasks.spawn(self.connect_project(), "Connecting the Hetzner Cloud project")

    def _import_clicked(self) -> None:
        self._ctx.tasks.spawn(self.run_import(), "Importing from Hetzner Cloud")

    async def connect_project(self) -> bool:
        name = self.project_name.text().strip()
        hetzner = self._ctx.core.operations.hetzner
        self.error.clear()
        self.connect_button.setEnabled(False)
        try:
            count = await self._ctx.read(
                functools.partial(hetzner.add_project, name, self.token.text())
            )
        except FieldError as exc:
            self.error.setText(exc.worded({"project": "project name"}.get(exc.field, exc.field)))
            return False
        except VpsHealthError as exc:
            self.error.setText(str(exc))
            return False
        finally:
            self.connect_button.setEnabled(True)
        self.token.clear()
        self.report_text.setPlainText(f"Connected {name}: {count} servers.")
        await self.load()
        self.projects.setCurrentIndex(self.projects.findData(name))
        return True

    def _key(self) -> NewKey:
        if not self.use_key_file.isChecked():
            return generated_key("hetzner-import")
        path = Path(self.key_file.text().strip()).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise VpsHealthError(f"Cannot read the key file {path}: {exc}") from None
        try:
            return key_from_text(text, None)
        except FieldError as exc:
            raise VpsHealthError(f"{path}: {exc.problem} (encrypted keys: use the CLI)") from None

    async def run_import(self) -> ImportReport | None:
        hetzner = self._ctx.core.operations.hetzner
        self.error.clear()
        self.import_button.setEnabled(False)
        try:
            key = self._key()
            report = await self._ctx.read(
                functools.partial(
                    hetzner.import_servers,
                    self.projects.currentData() or None,
                    key,
                    label_selector=self.label_selector.text().strip() or None,
                    trust_host_keys=self.trust_host_keys.isChecked(),
                )
            )
        except VpsHealthError as exc:
            self.error.setText(str(exc))
            return None
        finally:
            self.import_button.setEnabled(True)
        self.report_text.setPlainText(summary(report))
        self.imported.emit()
        await self.load()
        return report


def summary(report: ImportReport) -> str:
    lines = []
    for s in report.servers:
        extra = f" ({s.note})" if s.note else ""
        if s.dropped_labels:
            extra += " labels not usable as tags: " + ", ".join(s.dropped_labels)
        lines.append(f"{s.host_name}: {s.action}, {s.address or 'no address'}{extra}")
    counts = ", ".join(
        f"{report.count(a)} {a}" for a in ("added", "updated", "unchanged", "skipped")
    )
    lines.append(counts + ".")
    lines += [
        f"{g.host_name}: no longer in the project {g.project}; the host was kept."
        for g in report.gone
    ]
    if report.public_line:
        lines += [
            "",
            "Append this line to ~/.ssh/authorized_keys on each new server (shown only now):",
            report.public_line,
        ]
    if report.untrusted:
        lines += [
            "",
            "Host keys to confirm before anything is checked: "
            + ", ".join(report.untrusted)
            + " (edit each server and press Test connection to confirm its key, or import "
            "again with the host keys trusted on first use).",
        ]
    return "\n".join(lines)

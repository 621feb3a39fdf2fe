"""A form field with its one-line error under it, hidden until there is one."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vpshealth.gui.colours import Tone
from vpshealth.gui.theme import text_style


def with_error_line(widget: QWidget, parent: QWidget) -> tuple[QWidget, QLabel]:
    """The field and its error label in one box, for a form row; the label starts hidden."""
    box = QWidget(parent)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(widget)
    error = QLabel(box)
    error.setStyleSheet(text_style(Tone.CRITICAL))
    error.setWordWrap(True)
    error.hide()
    layout.addWidget(error)
    return box, error

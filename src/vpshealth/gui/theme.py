"""The light or dark scheme read from Qt's palette, and the colours drawn from it. Widgets that
paint with these re-read them on ``QEvent.PaletteChange``; the tray, which has no palette of
its own, follows ``QStyleHints.colorSchemeChanged``."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from vpshealth.gui.colours import (
    CHART_LINES,
    GRAPHIC_TONES,
    SYMBOL_ON_GRAPHIC,
    TEXT_TONES,
    Scheme,
    Tone,
    scheme_for_background,
)


def scheme_of(palette: QPalette | None = None) -> Scheme:
    """The scheme the palette's windows are drawn in (the application's by default)."""
    used = QGuiApplication.palette() if palette is None else palette
    return scheme_for_background(used.color(QPalette.ColorRole.Window).name())


def system_scheme() -> Scheme:
    """The desktop's own scheme where the platform tells it (the panel the tray sits on
    follows it), else the application palette's."""
    hint = QGuiApplication.styleHints().colorScheme()
    if hint == Qt.ColorScheme.Dark:
        return Scheme.DARK
    if hint == Qt.ColorScheme.Light:
        return Scheme.LIGHT
    return scheme_of()


def text_colour(tone: Tone, palette: QPalette | None = None) -> QColor:
    return QColor(TEXT_TONES[scheme_of(palette)][tone])


def graphic_colour(tone: Tone, scheme: Scheme) -> QColor:
    return QColor(GRAPHIC_TONES[scheme][tone])


def symbol_colour(scheme: Scheme) -> QColor:
    return QColor(SYMBOL_ON_GRAPHIC[scheme])


def _mix(a: QColor, b: QColor, share_of_b: float) -> QColor:
    keep = 1.0 - share_of_b
    return QColor(
        round(a.red() * keep + b.red() * share_of_b),
        round(a.green() * keep + b.green() * share_of_b),
        round(a.blue() * keep + b.blue() * share_of_b),
    )


@dataclass(frozen=True, slots=True)
class ChartStyle:
    background: QColor
    foreground: QColor
    """Titles, tick labels, legend text."""
    axis: QColor
    cursor: QColor
    lines: tuple[str, ...]


def chart_style(palette: QPalette) -> ChartStyle:
    """A chart drawn on the palette's base (the colour of views and text fields)."""
    background = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    scheme = scheme_for_background(background.name())
    return ChartStyle(
        background=background,
        foreground=_mix(text, background, 0.15),
        axis=_mix(text, background, 0.45),
        cursor=_mix(text, background, 0.5),
        lines=CHART_LINES[scheme],
    )


def text_style(tone: Tone) -> str:
    """A style sheet for a label in the tone's colour (the scheme of the moment: read it when
    the label is shown)."""
    return f"color: {text_colour(tone).name()};"

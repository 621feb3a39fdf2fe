"""The charts and state colours follow the palette: light by default, dark when the desktop
gives a dark palette, and a switch while the window is open redraws them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.palettes import dark_palette
from tests.gui.test_host_detail import _detail
from vpshealth.app import Core
from vpshealth.domain.health import HostState
from vpshealth.gui import tray as tray_module
from vpshealth.gui.colours import (
    CHART_LINES,
    GRAPHIC_CONTRAST,
    TEXT_CONTRAST,
    TEXT_TONES,
    Scheme,
    Tone,
    contrast_ratio,
)
from vpshealth.gui.context import GuiContext
from vpshealth.gui.overview import bar_colour
from vpshealth.gui.overview_model import state_colour
from vpshealth.gui.theme import chart_style, scheme_of
from vpshealth.gui.tray import TrayController
from vpshealth.gui.tray_icons import tray_icon
from vpshealth.gui.tray_state import TrayKind


@pytest.fixture
def app_palette(qapp: QApplication) -> Iterator[QApplication]:
    """Restores the application's palette the test changes."""
    before = QPalette(qapp.palette())
    yield qapp
    qapp.setPalette(before)


def test_the_default_palette_is_light_and_the_dark_one_dark(qapp: QApplication) -> None:
    assert scheme_of(qapp.palette()) is Scheme.LIGHT
    assert scheme_of(dark_palette()) is Scheme.DARK


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_chart_text_and_axes_keep_their_contrast(qapp: QApplication, dark: bool) -> None:
    style = chart_style(dark_palette() if dark else qapp.palette())
    background = style.background.name()
    assert contrast_ratio(style.foreground.name(), background) >= TEXT_CONTRAST
    assert contrast_ratio(style.axis.name(), background) >= GRAPHIC_CONTRAST
    for line in style.lines:
        assert contrast_ratio(line, background) >= GRAPHIC_CONTRAST


def _line_colours(detail: object) -> set[str]:
    plot = detail.charts.plots["cpu"]  # type: ignore[attr-defined]
    return {item.opts["pen"].color().name() for item in plot.listDataItems()}


def test_charts_switch_to_dark_while_shown(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, app_palette: QApplication
) -> None:
    detail, _ = _detail(core, ctx, loop, qtbot)
    charts = detail.charts
    assert charts.graphics.backgroundBrush().color().name() == "#ffffff"
    assert _line_colours(detail) <= set(CHART_LINES[Scheme.LIGHT])
    light_state = detail.state.text()

    app_palette.setPalette(dark_palette())
    QApplication.processEvents()

    base = dark_palette().color(QPalette.ColorRole.Base).name()
    assert charts.graphics.backgroundBrush().color().name() == base
    assert _line_colours(detail) <= set(CHART_LINES[Scheme.DARK])
    assert _line_colours(detail), "the lines were drawn again"
    axis = charts.plots["cpu"].getAxis("left")
    assert contrast_ratio(axis.textPen().color().name(), base) >= TEXT_CONTRAST
    assert detail.state.text() != light_state
    assert TEXT_TONES[Scheme.DARK][Tone.CRITICAL] in detail.state.text()


def test_state_colours_follow_the_application_palette(app_palette: QApplication) -> None:
    assert state_colour(HostState.CRITICAL).name() == TEXT_TONES[Scheme.LIGHT][Tone.CRITICAL]
    app_palette.setPalette(dark_palette())
    assert state_colour(HostState.CRITICAL).name() == TEXT_TONES[Scheme.DARK][Tone.CRITICAL]
    assert bar_colour(99, Scheme.DARK) != bar_colour(99, Scheme.LIGHT)


def test_the_tray_redraws_its_icon_when_the_desktop_scheme_changes(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    tray = TrayController()
    light = tray.icon.icon().pixmap(32, 32).toImage()
    monkeypatch.setattr(tray_module, "system_scheme", lambda: Scheme.DARK)
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    dark = tray.icon.icon().pixmap(32, 32).toImage()
    assert dark != light
    assert dark == tray_icon(TrayKind.UNKNOWN, Scheme.DARK).pixmap(32, 32).toImage()

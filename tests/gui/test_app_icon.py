"""The app's own icon (not the tray's state icons): drawn from the SVG shipped in the package."""

from __future__ import annotations

from vpshealth.gui.app_icon import window_icon


def test_the_window_icon_is_the_app_icon(qapp: object) -> None:
    icon = window_icon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert image.width() == 64
    assert image.pixelColor(16, 32).green() > 180  # on the pulse line's flat start

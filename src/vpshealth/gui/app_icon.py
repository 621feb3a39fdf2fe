"""Where the application's icon is found: in the icon theme when a package installed it
(the .deb, install.sh), else the SVG shipped inside the Python package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon

from vpshealth import APP_ID


def packaged_svg() -> Path | None:
    found = resources.files("vpshealth.resources") / "icons" / f"{APP_ID}.svg"
    path = Path(str(found))
    return path if path.is_file() else None


def notification_icon() -> str:
    """The ``app_icon`` of a desktop notification: a theme name or a ``file://`` URI."""
    if QIcon.hasThemeIcon(APP_ID):
        return APP_ID
    svg = packaged_svg()
    return svg.as_uri() if svg is not None else ""


def window_icon() -> QIcon:
    """The app's icon for its windows (X11 and Windows show it; Wayland takes the desktop
    file's)."""
    svg = packaged_svg()
    return QIcon.fromTheme(APP_ID, QIcon(str(svg)) if svg is not None else QIcon())

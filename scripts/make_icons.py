"""Render the application icon's SVG at every size the packages need (a PNG per size, the .ico),
and copy it into the package, where notifications find it without an installed icon theme.

Run: QT_QPA_PLATFORM=offscreen uv run python scripts/make_icons.py
Reads packaging/icons/hicolor/scalable/apps/io.vpshealth.VPSHealth.svg; writes
packaging/icons/hicolor/SIZExSIZE/apps/io.vpshealth.VPSHealth.png, packaging/icons/vpshealth.ico
and src/vpshealth/resources/icons/io.vpshealth.VPSHealth.svg.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

APP_ID = "io.vpshealth.VPSHealth"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "packaging" / "icons"
SVG = OUT / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
PACKAGED_SVG = ROOT / "src" / "vpshealth" / "resources" / "icons" / f"{APP_ID}.svg"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication(sys.argv)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"could not read {SVG}", file=sys.stderr)
        return 1
    for size in SIZES:
        target = OUT / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not render(renderer, size).save(str(target), "PNG"):
            print(f"could not write {target}", file=sys.stderr)
            return 1
    if not render(renderer, 256).save(str(OUT / "vpshealth.ico"), "ICO"):
        print("could not write the .ico (Qt's ico image plugin missing)", file=sys.stderr)
        return 1
    PACKAGED_SVG.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, PACKAGED_SVG)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())

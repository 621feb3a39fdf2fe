"""Draw the application icon at every size the packages need (PNG per size, and .ico).

Run: QT_QPA_PLATFORM=offscreen uv run python scripts/make_icons.py
Writes packaging/icons/hicolor/SIZExSIZE/apps/vpshealth.png and packaging/icons/vpshealth.ico.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
OUT = Path(__file__).resolve().parents[1] / "packaging" / "icons"


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = size * 0.06
    box = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#1f3a5f"))
    p.drawRoundedRect(box, size * 0.2, size * 0.2)
    # A pulse line across a server-rack stripe: "servers, alive".
    p.setBrush(QColor("#2b5283"))
    stripe = QRectF(box.left(), box.center().y() - size * 0.16, box.width(), size * 0.32)
    p.drawRect(stripe)
    pen = QPen(QColor("#5fe0a0"), max(size * 0.07, 1.5))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    y = box.center().y()
    x0, w = box.left() + size * 0.08, box.width() - size * 0.16
    points = [(0.0, 0.0), (0.3, 0.0), (0.4, -0.28), (0.52, 0.3), (0.62, -0.12), (0.7, 0.0),
              (1.0, 0.0)]  # fmt: skip
    path = QPainterPath(QPointF(x0, y))
    for fx, fy in points[1:]:
        path.lineTo(QPointF(x0 + fx * w, y + fy * size))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    p.end()
    return image


def main() -> int:
    app = QGuiApplication(sys.argv)
    for size in SIZES:
        target = OUT / "hicolor" / f"{size}x{size}" / "apps" / "vpshealth.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not draw(size).save(str(target), "PNG"):
            print(f"could not write {target}", file=sys.stderr)
            return 1
    if not draw(256).save(str(OUT / "vpshealth.ico"), "ICO"):
        print("could not write the .ico (Qt's ico image plugin missing)", file=sys.stderr)
        return 1
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())

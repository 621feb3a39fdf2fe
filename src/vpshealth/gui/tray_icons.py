"""Tray icons drawn with QPainter: each state has its own shape and symbol as well as its own
colour, so it reads without colour vision and stays crisp at every size. Light and dark
schemes each have their own fills and symbol colour (``colours.GRAPHIC_TONES``)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from vpshealth.gui.colours import Scheme, Tone
from vpshealth.gui.theme import graphic_colour, symbol_colour, system_scheme
from vpshealth.gui.tray_state import TrayKind

SIZES = (16, 20, 22, 24, 32, 48, 64, 128, 256)


def _shape(kind: TrayKind, box: QRectF) -> QPainterPath:
    path = QPainterPath()
    if kind is TrayKind.WARNING:
        path.addPolygon(
            QPolygonF(
                [
                    QPointF(box.center().x(), box.top()),
                    QPointF(box.right(), box.bottom()),
                    QPointF(box.left(), box.bottom()),
                ]
            )
        )
        path.closeSubpath()
    elif kind is TrayKind.CRITICAL:
        # An octagon, like a stop sign.
        w, h = box.width(), box.height()
        c = 0.29
        points = [
            (c, 0),
            (1 - c, 0),
            (1, c),
            (1, 1 - c),
            (1 - c, 1),
            (c, 1),
            (0, 1 - c),
            (0, c),
        ]
        path.addPolygon(
            QPolygonF([QPointF(box.left() + x * w, box.top() + y * h) for x, y in points])
        )
        path.closeSubpath()
    elif kind is TrayKind.UNREACHABLE:
        # A diamond.
        path.addPolygon(
            QPolygonF(
                [
                    QPointF(box.center().x(), box.top()),
                    QPointF(box.right(), box.center().y()),
                    QPointF(box.center().x(), box.bottom()),
                    QPointF(box.left(), box.center().y()),
                ]
            )
        )
        path.closeSubpath()
    elif kind is TrayKind.PAUSED:
        path.addRoundedRect(box, box.width() * 0.2, box.height() * 0.2)
    else:
        path.addEllipse(box)
    return path


def fill_colour(kind: TrayKind, scheme: Scheme) -> QColor:
    return graphic_colour(Tone(kind.value), scheme)


def _symbol(painter: QPainter, kind: TrayKind, box: QRectF, colour: QColor) -> None:
    s = box.width()
    pen = QPen(colour, max(1.5, s * 0.12), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    x, y = box.left(), box.top()

    def at(fx: float, fy: float) -> QPointF:
        return QPointF(x + fx * s, y + fy * s)

    if kind is TrayKind.OK:
        painter.drawPolyline(QPolygonF([at(0.28, 0.52), at(0.44, 0.68), at(0.73, 0.35)]))
    elif kind is TrayKind.WARNING:
        painter.drawLine(at(0.5, 0.38), at(0.5, 0.66))
        painter.drawPoint(at(0.5, 0.82))
    elif kind is TrayKind.CRITICAL:
        painter.drawLine(at(0.33, 0.33), at(0.67, 0.67))
        painter.drawLine(at(0.67, 0.33), at(0.33, 0.67))
    elif kind is TrayKind.UNREACHABLE:
        # A broken link: two short strokes with a gap.
        painter.drawLine(at(0.3, 0.5), at(0.43, 0.5))
        painter.drawLine(at(0.57, 0.5), at(0.7, 0.5))
    elif kind is TrayKind.PAUSED:
        painter.drawLine(at(0.38, 0.3), at(0.38, 0.7))
        painter.drawLine(at(0.62, 0.3), at(0.62, 0.7))
    else:
        for fx in (0.3, 0.5, 0.7):
            painter.drawPoint(at(fx, 0.5))


def draw_pixmap(
    kind: TrayKind, size: int, device_pixel_ratio: float = 1.0, scheme: Scheme = Scheme.LIGHT
) -> QPixmap:
    pixels = max(1, round(size * device_pixel_ratio))
    pixmap = QPixmap(pixels, pixels)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = pixels * 0.06
    box = QRectF(margin, margin, pixels - 2 * margin, pixels - 2 * margin)
    fill = fill_colour(kind, scheme)
    outline = fill.darker(140) if scheme is Scheme.LIGHT else fill.lighter(130)
    painter.setPen(QPen(outline, max(1.0, pixels * 0.04)))
    painter.setBrush(QBrush(fill))
    painter.drawPath(_shape(kind, box))
    _symbol(painter, kind, box, symbol_colour(scheme))
    painter.end()
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    return pixmap


def tray_icon(kind: TrayKind, scheme: Scheme | None = None) -> QIcon:
    """``scheme``: the desktop's by default."""
    used = system_scheme() if scheme is None else scheme
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(draw_pixmap(kind, size, scheme=used))
    return icon

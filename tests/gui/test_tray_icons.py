from __future__ import annotations

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from vpshealth.gui.colours import Scheme
from vpshealth.gui.tray_icons import draw_pixmap, fill_colour, tray_icon
from vpshealth.gui.tray_state import TrayKind


def _image(kind: TrayKind, size: int, scheme: Scheme = Scheme.LIGHT) -> QImage:
    return draw_pixmap(kind, size, scheme=scheme).toImage()


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("size", [16, 22, 32, 64])
def test_each_state_has_its_own_picture(qapp: QApplication, size: int, scheme: Scheme) -> None:
    images = {kind: _image(kind, size, scheme) for kind in TrayKind}
    kinds = list(TrayKind)
    for i, a in enumerate(kinds):
        for b in kinds[i + 1 :]:
            assert images[a] != images[b], (a, b)


def test_shapes_differ_without_colour(qapp: QApplication) -> None:
    """Shape, not only colour: the opaque outline differs between the problem states."""

    def mask(kind: TrayKind) -> list[bool]:
        image = _image(kind, 32)
        return [image.pixelColor(x, y).alpha() > 128 for y in range(32) for x in range(32)]

    masks = {
        kind: mask(kind)
        for kind in (
            TrayKind.OK,
            TrayKind.WARNING,
            TrayKind.CRITICAL,
            TrayKind.UNREACHABLE,
            TrayKind.PAUSED,
        )
    }
    assert len({tuple(m) for m in masks.values()}) == len(masks)


def test_centre_has_the_state_colour_family(qapp: QApplication) -> None:
    image = _image(TrayKind.CRITICAL, 64)
    edge = image.pixelColor(20, 6)
    assert edge.alpha() == 255
    assert edge.red() > edge.green()
    for scheme in Scheme:
        assert (
            fill_colour(TrayKind.CRITICAL, scheme).red()
            > fill_colour(TrayKind.CRITICAL, scheme).green()
        )


def test_dark_icons_are_lighter_and_carry_a_dark_symbol(qapp: QApplication) -> None:
    light, dark = _image(TrayKind.OK, 64), _image(TrayKind.OK, 64, Scheme.DARK)
    assert dark.pixelColor(32, 10).lightness() > light.pixelColor(32, 10).lightness()
    tick = (20, 33)  # where the tick's stroke starts
    assert light.pixelColor(*tick).lightness() > 200
    assert dark.pixelColor(*tick).lightness() < 80


def test_icon_has_every_size_and_hidpi_pixmaps(qapp: QApplication) -> None:
    icon = tray_icon(TrayKind.OK)
    assert {s.width() for s in icon.availableSizes()} >= {16, 22, 24, 32, 48, 64}
    hidpi = draw_pixmap(TrayKind.OK, 22, 2.0)
    assert hidpi.width() == 44
    assert hidpi.devicePixelRatio() == 2.0

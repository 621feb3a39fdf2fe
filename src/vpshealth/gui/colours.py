"""The colours that carry a meaning (a state, a chart line), one set for light and one for dark
palettes, and the WCAG contrast arithmetic that checks them. Plain hex strings: the palette's
own colours (background, text, grid) come from Qt, see ``theme``."""

from __future__ import annotations

from enum import StrEnum


class Scheme(StrEnum):
    LIGHT = "light"
    DARK = "dark"


class Tone(StrEnum):
    """A meaning, drawn in the colour of the current scheme."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"
    PAUSED = "paused"
    MUTED = "muted"
    """What is over: a closed incident."""
    NORMAL = "normal"
    """A bar below its warning level."""


TEXT_TONES: dict[Scheme, dict[Tone, str]] = {
    Scheme.LIGHT: {
        Tone.OK: "#1b7332",
        Tone.WARNING: "#8f5b00",
        Tone.CRITICAL: "#c62828",
        Tone.UNREACHABLE: "#6a1b9a",
        Tone.UNKNOWN: "#5f5f5f",
        Tone.PAUSED: "#4e6570",
        Tone.MUTED: "#666666",
        Tone.NORMAL: "#2f6fa6",
    },
    Scheme.DARK: {
        Tone.OK: "#5cc26a",
        Tone.WARNING: "#f0b040",
        Tone.CRITICAL: "#ff7a70",
        Tone.UNREACHABLE: "#d09ae0",
        Tone.UNKNOWN: "#b0b0b0",
        Tone.PAUSED: "#9fb4be",
        Tone.MUTED: "#a0a0a0",
        Tone.NORMAL: "#6aaee6",
    },
}
"""Words in a state's colour (the table's state column, labels): at least 4.5:1."""

GRAPHIC_TONES: dict[Scheme, dict[Tone, str]] = {
    Scheme.LIGHT: {
        Tone.OK: "#2e8540",
        Tone.WARNING: "#b87400",
        Tone.CRITICAL: "#c62828",
        Tone.UNREACHABLE: "#6a1b9a",
        Tone.UNKNOWN: "#757575",
        Tone.PAUSED: "#546e7a",
        Tone.MUTED: "#757575",
        Tone.NORMAL: "#3d85c0",
    },
    Scheme.DARK: {
        Tone.OK: "#4caf50",
        Tone.WARNING: "#f0a830",
        Tone.CRITICAL: "#f05545",
        Tone.UNREACHABLE: "#c080e0",
        Tone.UNKNOWN: "#9e9e9e",
        Tone.PAUSED: "#8aa4b0",
        Tone.MUTED: "#9e9e9e",
        Tone.NORMAL: "#5a9fd8",
    },
}
"""Shapes filled with a state's colour (tray icons, usage bars): at least 3:1."""

SYMBOL_ON_GRAPHIC = {Scheme.LIGHT: "#ffffff", Scheme.DARK: "#1a1a1a"}
"""The glyph drawn inside a filled state shape (the tick, the cross)."""

CHART_LINES: dict[Scheme, tuple[str, ...]] = {
    Scheme.LIGHT: ("#1f77b4", "#c9302c", "#2a8a2a", "#8a5cc0", "#c25e00", "#0f8796", "#8c564b"),
    Scheme.DARK: ("#6cb4ee", "#ff7b7b", "#5fd35f", "#c5a3e8", "#ffa94d", "#4dd8e6", "#d4a59a"),
}
"""A chart's lines in order: at least 3:1 against the chart's background."""

REFERENCE_BACKGROUNDS: dict[Scheme, tuple[str, ...]] = {
    # Qt's default and Fusion (window, base, alternate base), Breeze, Adwaita
    Scheme.LIGHT: ("#ffffff", "#efefef", "#f7f7f7", "#eff0f1", "#fafafa", "#f6f5f4"),
    # Fusion dark and this app's dark screenshots, Breeze dark, Adwaita dark
    Scheme.DARK: ("#1e1e1e", "#2b2b2b", "#262626", "#353535", "#232629", "#31363b", "#242424",
                  "#303030"),
}  # fmt: skip
"""Backgrounds of common styles that every colour above is checked against."""

TEXT_CONTRAST = 4.5
GRAPHIC_CONTRAST = 3.0


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of ``#rrggbb``."""
    digits = colour.removeprefix("#")
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """From 1 (the same) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def scheme_for_background(colour: str) -> Scheme:
    """Dark when text must be light to read on ``colour``."""
    on_white = contrast_ratio(colour, "#ffffff")
    on_black = contrast_ratio(colour, "#000000")
    return Scheme.DARK if on_white > on_black else Scheme.LIGHT

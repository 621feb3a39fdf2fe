"""Every colour that carries a meaning reads on the backgrounds of common light and dark
styles: WCAG 2 contrast of at least 4.5:1 for text and 3:1 for graphics (SC 1.4.3, 1.4.11)."""

from __future__ import annotations

import pytest

from vpshealth.gui.colours import (
    CHART_LINES,
    GRAPHIC_CONTRAST,
    GRAPHIC_TONES,
    REFERENCE_BACKGROUNDS,
    SYMBOL_ON_GRAPHIC,
    TEXT_CONTRAST,
    TEXT_TONES,
    Scheme,
    Tone,
    contrast_ratio,
    relative_luminance,
    scheme_for_background,
)


def test_the_contrast_arithmetic_matches_wcag() -> None:
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000000") == 0.0
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # WebAIM's


def test_every_tone_has_a_colour_in_each_scheme() -> None:
    for tones in (TEXT_TONES, GRAPHIC_TONES):
        assert set(tones) == set(Scheme)
        for scheme in Scheme:
            assert set(tones[scheme]) == set(Tone)


@pytest.mark.parametrize("scheme", list(Scheme))
def test_reference_backgrounds_belong_to_their_scheme(scheme: Scheme) -> None:
    for background in REFERENCE_BACKGROUNDS[scheme]:
        assert scheme_for_background(background) is scheme, background


def _worst(colour: str, scheme: Scheme) -> float:
    return min(contrast_ratio(colour, bg) for bg in REFERENCE_BACKGROUNDS[scheme])


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("tone", list(Tone))
def test_state_text_has_4_5_to_1_on_every_background(scheme: Scheme, tone: Tone) -> None:
    colour = TEXT_TONES[scheme][tone]
    assert _worst(colour, scheme) >= TEXT_CONTRAST, (scheme, tone, colour)


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("tone", list(Tone))
def test_state_graphics_have_3_to_1_on_every_background(scheme: Scheme, tone: Tone) -> None:
    colour = GRAPHIC_TONES[scheme][tone]
    assert _worst(colour, scheme) >= GRAPHIC_CONTRAST, (scheme, tone, colour)
    symbol = SYMBOL_ON_GRAPHIC[scheme]
    assert contrast_ratio(symbol, colour) >= GRAPHIC_CONTRAST, (scheme, tone, "symbol")


@pytest.mark.parametrize("scheme", list(Scheme))
def test_chart_lines_have_3_to_1_on_every_background(scheme: Scheme) -> None:
    lines = CHART_LINES[scheme]
    assert len(set(lines)) == len(lines) >= 6
    for colour in lines:
        assert _worst(colour, scheme) >= GRAPHIC_CONTRAST, (scheme, colour)


def test_the_light_colours_would_fail_on_a_dark_background() -> None:
    """The reason for two sets: the light scheme's critical red is unreadable on dark."""
    red = TEXT_TONES[Scheme.LIGHT][Tone.CRITICAL]
    assert _worst(red, Scheme.DARK) < TEXT_CONTRAST

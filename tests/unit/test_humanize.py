"""One way to say how long ago and how long, for the CLI and the GUI."""

from __future__ import annotations

import pytest

from vpshealth.domain.humanize import ago, duration, human_bytes

NOW = 1_000_000


@pytest.mark.parametrize(
    ("seconds_ago", "text"),
    [
        (-5, "just now"),
        (0, "0 s ago"),
        (89, "89 s ago"),
        (90, "1 min ago"),
        (5399, "89 min ago"),
        (5400, "1 h ago"),
        (48 * 3600 - 1, "47 h ago"),
        (48 * 3600, "2 d ago"),
    ],
)
def test_ago_switches_unit_at_one_and_a_half(seconds_ago: int, text: str) -> None:
    assert ago(NOW - seconds_ago, NOW) == text


def test_ago_without_a_time() -> None:
    assert ago(None, NOW) == "never"


@pytest.mark.parametrize(
    ("seconds", "spoken", "compact"),
    [
        (-3, "0 s", "0s"),
        (45, "45 s", "45s"),
        (600, "10 min", "10m"),
        (5400, "1 h 30 min", "1h 30m"),
        (3600, "1 h 0 min", "1h 0m"),
        (2 * 86400 + 3 * 3600 + 59, "2 d 3 h", "2d 3h"),
    ],
)
def test_duration_names_the_two_largest_units(seconds: int, spoken: str, compact: str) -> None:
    assert duration(seconds) == spoken
    assert duration(seconds, compact=True) == compact


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (5 * 1024**3, "5.0 GiB"),
        (2 * 1024**5, "2.0 PiB"),
    ],
)
def test_human_bytes(value: float, text: str) -> None:
    assert human_bytes(value) == text

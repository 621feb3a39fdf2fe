"""The disk-full forecast: a least-squares line, trusted only for a steady rise over enough
samples and time; and the trend that feeds it (spacing, window)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.alert_builders import HOUR, T0
from vpshealth.domain.disk_forecast import (
    MIN_SAMPLES,
    SAMPLE_SPACING_SECONDS,
    WINDOW_SECONDS,
    DiskTrend,
    hours_until_full,
)

STEP = 300  # one sample per 5 minutes, as the trend keeps them


def linear(start: float, per_hour: float, count: int, step: int = STEP) -> list[tuple[int, float]]:
    return [(T0 + i * step, start + per_hour * i * step / HOUR) for i in range(count)]


# --- hours_until_full ---------------------------------------------------------------------


def test_exact_hours_for_a_linear_rise() -> None:
    # 50 % rising 3 %/h for an hour: 53 % now, 47 points to go at 3 per hour.
    assert hours_until_full(linear(50.0, 3.0, 13)) == pytest.approx(47 / 3, rel=1e-9)


def test_hours_count_from_the_last_sample() -> None:
    # Two hours of 1 %/h from 60 %: 62 % now, 38 h to go.
    assert hours_until_full(linear(60.0, 1.0, 25)) == pytest.approx(38.0, rel=1e-9)


def test_uneven_spacing_uses_the_real_times() -> None:
    times = [0, 300, 900, 1000, 1500, 2000, 2400, 2700, 3000, 3300, 3500, 3600, 4500]
    samples = [(T0 + t, 20.0 + 4.0 * t / HOUR) for t in times]
    # 4 %/h; the last sample is at 1.25 h: 25 % now, 75 points to go.
    assert hours_until_full(samples) == pytest.approx(75 / 4, rel=1e-9)


def test_already_full_line_gives_zero() -> None:
    assert hours_until_full(linear(98.0, 4.0, 13)) == 0.0


def test_small_noise_still_trusted() -> None:
    wobble = [0.05, -0.05] * 7
    samples = [(t, p + w) for (t, p), w in zip(linear(50.0, 3.0, 13), wobble, strict=False)]
    hours = hours_until_full(samples)
    assert hours is not None
    assert hours == pytest.approx(47 / 3, rel=0.02)


def test_too_few_samples() -> None:
    samples = linear(50.0, 3.0, MIN_SAMPLES - 1, step=600)  # 11 samples over 100 minutes
    assert samples[-1][0] - samples[0][0] >= HOUR
    assert hours_until_full(samples) is None


def test_exactly_the_minimum_samples_over_an_hour() -> None:
    samples = linear(50.0, 6.0, MIN_SAMPLES, step=HOUR // (MIN_SAMPLES - 1) + 1)
    assert hours_until_full(samples) is not None


def test_too_short_a_span() -> None:
    samples = linear(50.0, 3.0, 12)  # 12 samples over 55 minutes
    assert samples[-1][0] - samples[0][0] == 55 * 60
    assert hours_until_full(samples) is None
    assert hours_until_full(linear(50.0, 3.0, 13)) is not None  # 60 minutes is enough


def test_flat_is_none() -> None:
    assert hours_until_full(linear(70.0, 0.0, 25)) is None


def test_falling_is_none() -> None:
    assert hours_until_full(linear(70.0, -2.0, 25)) is None


def test_barely_rising_is_none() -> None:
    # 0.005 %/h is below the minimum rise of 0.01 %/h (it would be "full in 6000 h").
    assert hours_until_full(linear(70.0, 0.005, 25)) is None


def test_scattered_is_none() -> None:
    noise = [0.0, 6.0, -5.0, 4.0, -6.0, 5.0, -4.0, 6.0, -5.0, 5.0, -6.0, 4.0, 0.0]
    samples = [(t, p + n) for (t, p), n in zip(linear(50.0, 1.0, 13), noise, strict=True)]
    assert hours_until_full(samples) is None


@pytest.mark.parametrize("position", [0, 6, 12, 20, 24])
def test_one_spike_is_none(position: int) -> None:
    samples = linear(50.0, 0.0, 25)
    samples[position] = (samples[position][0], 80.0)
    assert hours_until_full(samples) is None


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_none(bad: float) -> None:
    samples = linear(50.0, 3.0, 13)
    samples[5] = (samples[5][0], bad)
    assert hours_until_full(samples) is None


def test_huge_values_do_not_overflow() -> None:
    # A float power overflows (OverflowError) where a product gives inf.
    assert hours_until_full([(T0 + i * STEP, 1e200 * i) for i in range(13)]) is None
    assert hours_until_full([(T0 + i * STEP, 1e300 * (-1) ** i) for i in range(13)]) is None


def test_out_of_order_samples_are_none() -> None:
    assert hours_until_full(list(reversed(linear(50.0, 3.0, 13)))) is None


def test_empty_is_none() -> None:
    assert hours_until_full([]) is None


# --- DiskTrend ----------------------------------------------------------------------------


def test_trend_keeps_one_sample_per_spacing() -> None:
    trend = DiskTrend()
    for i in range(31):  # a poll every 30 s for 15 minutes
        trend.add(T0 + 30 * i, 50.0 + i)
    assert list(trend.samples) == [(T0, 50.0), (T0 + 300, 60.0), (T0 + 600, 70.0), (T0 + 900, 80.0)]


def test_trend_spacing_counts_from_the_last_kept_sample() -> None:
    trend = DiskTrend()
    trend.add(T0, 1.0)
    trend.add(T0 + SAMPLE_SPACING_SECONDS - 1, 2.0)
    trend.add(T0 + SAMPLE_SPACING_SECONDS, 3.0)
    trend.add(T0 + SAMPLE_SPACING_SECONDS + 299, 4.0)
    assert list(trend.samples) == [(T0, 1.0), (T0 + 300, 3.0)]


def test_trend_ignores_a_clock_going_back() -> None:
    trend = DiskTrend()
    trend.add(T0, 1.0)
    trend.add(T0 - 600, 2.0)
    assert list(trend.samples) == [(T0, 1.0)]


def test_trend_window_is_six_hours() -> None:
    trend = DiskTrend()
    for i in range(8 * 12 + 1):  # 8 hours of 5-minute samples
        trend.add(T0 + i * STEP, 10.0 + i * 0.1)
    times = [t for t, _ in trend.samples]
    assert times[-1] == T0 + 8 * HOUR
    assert times[0] == T0 + 2 * HOUR  # exactly six hours back is still inside
    assert times[-1] - times[0] == WINDOW_SECONDS
    assert len(times) == 6 * 12 + 1


def test_trend_after_a_gap_keeps_only_the_window() -> None:
    trend = DiskTrend()
    for i in range(13):
        trend.add(T0 + i * STEP, 50.0 + i)
    trend.add(T0 + 10 * HOUR, 60.0)
    assert list(trend.samples) == [(T0 + 10 * HOUR, 60.0)]


def test_trend_ready_and_forecast() -> None:
    trend = DiskTrend()
    for t, p in linear(50.0, 3.0, 12):
        trend.add(t, p)
    assert not trend.ready
    assert trend.hours_until_full() is None
    t, p = linear(50.0, 3.0, 13)[-1]
    trend.add(t, p)
    assert trend.ready
    assert trend.hours_until_full() == pytest.approx(47 / 3, rel=1e-9)


def test_trend_forecast_follows_the_window() -> None:
    # Falling for hours, then rising for six: the old fall has left the window.
    trend = DiskTrend()
    for i in range(4 * 12):
        trend.add(T0 + i * STEP, 80.0 - i * 0.2)
    start = T0 + 4 * 12 * STEP
    for i in range(6 * 12 + 1):
        trend.add(start + i * STEP, 40.0 + i * 0.1)
    # 1.2 %/h; the last sample is 47.2 %: 52.8 points to go.
    assert trend.hours_until_full() == pytest.approx(52.8 / 1.2, rel=1e-9)


# --- properties ---------------------------------------------------------------------------

_samples = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2**40),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
    max_size=40,
)


@given(_samples)
def test_never_raises_and_is_none_or_non_negative(samples: list[tuple[int, float]]) -> None:
    hours = hours_until_full(samples)
    assert hours is None or (math.isfinite(hours) and hours >= 0)


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=600), st.floats(0, 100)),
        min_size=1,
        max_size=200,
    )
)
def test_trend_never_raises_and_respects_spacing_and_window(steps: list[tuple[int, float]]) -> None:
    trend = DiskTrend()
    now = T0
    for gap, percent in steps:
        now += gap
        trend.add(now, percent)
    times = [t for t, _ in trend.samples]
    assert all(b - a >= SAMPLE_SPACING_SECONDS for a, b in itertools.pairwise(times))
    assert times[-1] - times[0] <= WINDOW_SECONDS
    hours = trend.hours_until_full()
    assert hours is None or hours >= 0


def test_trend_forecast_follows_each_new_sample() -> None:
    trend = DiskTrend()
    for i in range(13):  # an hour of 1 % per 5 minutes
        trend.add(T0 + i * STEP, 10.0 + i)
    first = trend.hours_until_full()
    assert first == pytest.approx((100.0 - 22.0) / 12)
    assert trend.hours_until_full() == first
    trend.add(T0 + 13 * STEP - 1, 99.0)  # inside the spacing: not kept
    assert trend.hours_until_full() == first
    trend.add(T0 + 13 * STEP, 25.0)  # 3 % in 5 minutes: the line steepens, full sooner
    later = trend.hours_until_full()
    assert later is not None
    assert later < first

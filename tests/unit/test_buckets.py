"""Min/avg/max buckets and the rollup blob codec."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpshealth.store.buckets import Buckets, from_samples, overlay, widen
from vpshealth.store.chunk_codec import (
    ROLLUP_FLOAT,
    ROLLUP_SCALED_INT,
    decode_rollup,
    encode_rollup,
)

T0 = 1_800_000_000 - 1_800_000_000 % 3600

points_strategy = st.lists(
    st.tuples(
        st.integers(T0, T0 + 3 * 3600),
        st.integers(-100_000, 100_000).map(lambda n: n / 100),
    ),
    min_size=1,
    max_size=300,
    unique_by=lambda p: p[0],
).map(sorted)


def reference(points: list[tuple[int, float]], width: int) -> dict[int, tuple[int, float, float]]:
    groups: dict[int, list[float]] = {}
    for ts, value in points:
        groups.setdefault(ts - ts % width, []).append(value)
    return {start: (len(v), min(v), max(v)) for start, v in groups.items()}


def test_minute_buckets_of_known_samples() -> None:
    points = [(T0, 1.0), (T0 + 10, 3.0), (T0 + 50, 2.0), (T0 + 60, 7.5), (T0 + 180, -1.0)]
    buckets = from_samples(points, 60)
    assert buckets == Buckets(
        [T0, T0 + 60, T0 + 180], [3, 1, 1], [1.0, 7.5, -1.0], [2.0, 7.5, -1.0], [3.0, 7.5, -1.0]
    )


@given(
    st.sampled_from([1, 5, 10, 15, 60]),
    st.integers(1, 240),
    st.integers(0, 59),
    st.lists(st.integers(-100_000, 100_000).map(lambda n: n / 100), min_size=240, max_size=240),
    st.sets(st.integers(0, 239), max_size=3),
)
def test_samples_on_a_grid_or_with_gaps_give_the_same_buckets_as_one_by_one(
    interval: int, count: int, offset: int, values: list[float], missing: set[int]
) -> None:
    points = [(T0 + offset + i * interval, values[i]) for i in range(count) if i not in missing]
    buckets = from_samples(points, 60)
    groups: dict[int, list[float]] = {}
    for ts, value in points:
        groups.setdefault(ts - ts % 60, []).append(value)
    expected = [
        (start, len(v), min(v), sum(v) / len(v), max(v)) for start, v in sorted(groups.items())
    ]
    assert list(buckets.rows()) == expected


def test_widening_weights_the_average_by_samples() -> None:
    minutes = Buckets([T0, T0 + 60, T0 + 3600], [6, 2, 1], [1.0, 0.0, 5.0], [2.0, 6.0, 5.0],
                      [3.0, 9.0, 5.0])  # fmt: skip
    hours = widen(minutes, 3600)
    assert hours == Buckets([T0, T0 + 3600], [8, 1], [0.0, 5.0], [3.0, 5.0], [9.0, 5.0])


@settings(max_examples=150, deadline=None)
@given(points_strategy)
def test_hour_buckets_of_minute_buckets_equal_hour_buckets_of_samples(
    points: list[tuple[int, float]],
) -> None:
    direct = from_samples(points, 3600)
    stepped = widen(from_samples(points, 60), 3600)
    assert (direct.timestamps, direct.counts) == (stepped.timestamps, stepped.counts)
    assert (direct.minimum, direct.maximum) == (stepped.minimum, stepped.maximum)
    assert all(map(math.isclose, direct.average, stepped.average))
    expected = reference(points, 3600)
    assert {b[0]: (b[1], b[2], b[4]) for b in direct.rows()} == expected


def test_overlay_replaces_buckets_of_the_same_start_and_keeps_order() -> None:
    old = Buckets([T0, T0 + 60], [1, 1], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0])
    new = Buckets([T0 + 60, T0 + 120], [2, 1], [5.0, 6.0], [5.5, 6.0], [6.0, 6.0])
    merged = overlay(old, new)
    assert merged.timestamps == [T0, T0 + 60, T0 + 120]
    assert merged.counts == [1, 2, 1]
    assert merged.average == [1.0, 5.5, 6.0]


def test_between_keeps_buckets_starting_inside_the_range() -> None:
    buckets = from_samples([(T0 + 60 * i, float(i)) for i in range(10)], 60)
    assert buckets.between(T0 + 120, T0 + 300).timestamps == [T0 + 120, T0 + 180, T0 + 240]


# ---------------------------------------------------------------- rollup blobs


@settings(max_examples=200, deadline=None)
@given(points_strategy)
def test_rollup_blobs_round_trip_with_the_average_within_a_510th_of_the_range(
    points: list[tuple[int, float]],
) -> None:
    buckets = from_samples(points, 60)
    blob = encode_rollup(*_columns(buckets))
    ts, counts, lows, means, highs = decode_rollup(blob)
    assert (ts, counts, lows, highs) == (
        buckets.timestamps,
        buckets.counts,
        buckets.minimum,
        buckets.maximum,
    )
    for mean, exact, low, high in zip(
        means, buckets.average, buckets.minimum, buckets.maximum, strict=True
    ):
        assert abs(mean - exact) <= (high - low) / 510 + 1e-9
        assert low <= mean <= high


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False), min_size=1, max_size=50)
)
def test_rollup_blobs_keep_arbitrary_floats_within_the_codec_tolerance(
    values: list[float],
) -> None:
    n = len(values)
    ts = [T0 + 60 * i for i in range(n)]
    blob = encode_rollup(ts, [1] * n, values, values, values)
    decoded = decode_rollup(blob)
    assert decoded[:2] == (ts, [1] * n)
    for column in decoded[2:]:
        assert all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=0.005)
            for a, b in zip(column, values, strict=True)
        )


def test_scaled_values_use_the_integer_layout_and_other_floats_the_float_one() -> None:
    ts = [T0, T0 + 60]
    scaled = encode_rollup(ts, [6, 6], [1.5, 2.0], [1.512, 2.0], [3.25, 2.0])
    assert scaled[2] == ROLLUP_SCALED_INT
    assert decode_rollup(scaled)[3] == [1.5 + 1.75 * 2 / 255, 2.0]  # 2 steps of 255
    floats = encode_rollup(ts, [6, 6], [1.5001, 2.0], [1.6, 2.0], [3.25, 2.0])
    assert floats[2] == ROLLUP_FLOAT


def test_a_flat_day_of_minute_buckets_takes_a_few_bytes() -> None:
    n = 1440
    ts = [T0 + 60 * i for i in range(n)]
    blob = encode_rollup(ts, [6] * n, [42.5] * n, [42.5] * n, [42.5] * n)
    assert len(blob) < 64


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (([T0], [1], [1.0], [1.0], []), "differ in length"),
        (([T0], [0], [1.0], [1.0], [1.0]), "at least one sample"),
        (([T0, T0], [1, 1], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]), "strictly increasing"),
        (([T0], [1], [math.nan], [1.0], [1.0]), "finite"),
        (([T0], [1], [2.0], [1.5], [1.0]), "above its maximum"),
    ],
)
def test_bad_rollup_input_is_refused(
    columns: tuple[list[int], list[int], list[float], list[float], list[float]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        encode_rollup(*columns)


@pytest.mark.parametrize(
    "blob", [b"", b"\x01", b"\x02\x01\x01", b"\x01\x01\x07", b"\x01\x01\x01xx"]
)
def test_corrupt_rollup_blobs_raise_value_error(blob: bytes) -> None:
    with pytest.raises(ValueError):
        decode_rollup(blob)


def _columns(
    buckets: Buckets,
) -> tuple[list[int], list[int], list[float], list[float], list[float]]:
    return buckets.timestamps, buckets.counts, buckets.minimum, buckets.average, buckets.maximum

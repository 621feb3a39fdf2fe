"""Snoozes and maintenance windows: one-off bounds, host scope, weekly windows (Monday-based,
UTC) including one that wraps past the end of the week, and expiry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.domain.silences import WEEK_MINUTES, Silence, SilenceKind, silenced

DAY = 24 * 3600
WEEK = 7 * DAY
MONDAY = int(datetime(2026, 11, 30, tzinfo=UTC).timestamp())  # a Monday, 00:00 UTC
SNOOZE = SilenceKind.SNOOZE
MAINTENANCE = SilenceKind.MAINTENANCE


def at(day: int, hour: int = 0, minute: int = 0, *, week: int = 0) -> int:
    """Unix seconds of weekday ``day`` (0 = Monday) at hour:minute UTC, ``week`` weeks on."""
    return MONDAY + week * WEEK + day * DAY + hour * 3600 + minute * 60


def one_off(start: int | None, end: int | None, host_id: int | None = 1) -> Silence:
    return Silence(1, host_id, SNOOZE, starts_at=start, ends_at=end)


def weekly(start_minute: int, minutes: int, host_id: int | None = 1) -> Silence:
    return Silence(
        2, host_id, MAINTENANCE, weekly_start_minute=start_minute, weekly_minutes=minutes
    )


def test_the_reference_monday_is_a_monday() -> None:
    assert datetime.fromtimestamp(MONDAY, UTC).weekday() == 0
    assert datetime.fromtimestamp(at(6, 3), UTC).strftime("%a %H:%M") == "Sun 03:00"


# --- one-off ------------------------------------------------------------------------------


def test_one_off_start_inclusive_end_exclusive() -> None:
    s = one_off(1000, 2000)
    assert not s.active(999)
    assert s.active(1000)
    assert s.active(1999.5)
    assert not s.active(2000)
    assert not s.active(3000)


def test_one_off_open_ended() -> None:
    assert one_off(1000, None).active(10**12)
    assert not one_off(1000, None).active(999)
    assert one_off(None, 2000).active(-(10**12))
    assert not one_off(None, 2000).active(2000)


def test_one_off_empty_window_is_never_active() -> None:
    s = one_off(1000, 1000)
    assert not s.active(999)
    assert not s.active(1000)


def test_expired_only_for_one_off_windows_at_or_after_their_end() -> None:
    assert not one_off(1000, 2000).expired(1999)
    assert one_off(1000, 2000).expired(2000)
    assert one_off(1000, 2000).expired(5000)
    assert not one_off(1000, None).expired(10**12)
    assert not weekly(0, 60).expired(10**12)


def test_weekly_property() -> None:
    assert weekly(0, 60).weekly
    assert not one_off(1, 2).weekly


# --- host scope ---------------------------------------------------------------------------


def test_host_specific_silence_covers_only_that_host() -> None:
    s = one_off(1000, 2000, host_id=7)
    assert s.covers(7, 1500)
    assert not s.covers(8, 1500)
    assert not s.covers(7, 2500)


def test_every_host_silence_covers_all_hosts() -> None:
    s = one_off(1000, 2000, host_id=None)
    assert s.covers(1, 1500)
    assert s.covers(99, 1500)
    assert not s.covers(1, 2000)


def test_silenced_any_of_many() -> None:
    silences = [one_off(1000, 2000, host_id=7), one_off(3000, 4000, host_id=None)]
    assert silenced(silences, 7, 1500)
    assert not silenced(silences, 8, 1500)
    assert silenced(silences, 8, 3500)
    assert not silenced(silences, 7, 2500)
    assert not silenced([], 7, 1500)


# --- weekly -------------------------------------------------------------------------------


def test_weekly_window_starts_on_monday_midnight_utc() -> None:
    s = weekly(0, 60)  # Monday 00:00-01:00 UTC
    assert s.active(at(0, 0, 0))
    assert s.active(at(0, 0, 59))
    assert not s.active(at(0, 1, 0))
    assert not s.active(at(6, 23, 59))  # Sunday 23:59 is the previous week's end
    assert not s.active(at(6, 0, 0))  # a Sunday, not a Monday
    assert s.active(at(0, 0, 30, week=5))
    assert s.active(at(0, 0, 30, week=-300))


def test_weekly_window_on_sunday_night() -> None:
    start = 6 * 1440 + 3 * 60  # Sunday 03:00 UTC
    s = weekly(start, 90)
    assert not s.active(at(6, 2, 59))
    assert s.active(at(6, 3, 0))
    assert s.active(at(6, 4, 29))
    assert not s.active(at(6, 4, 30))
    assert not s.active(at(0, 3, 0))  # Monday 03:00
    assert not s.active(at(5, 3, 0))  # Saturday 03:00
    assert s.active(at(6, 3, 45, week=12))


def test_weekly_window_wrapping_past_sunday_into_monday() -> None:
    s = weekly(6 * 1440 + 23 * 60, 120)  # Sunday 23:00 to Monday 01:00 UTC
    assert not s.active(at(6, 22, 59))
    assert s.active(at(6, 23, 0))
    assert s.active(at(6, 23, 59))
    assert s.active(at(0, 0, 0, week=1))
    assert s.active(at(0, 0, 0))  # the Monday part of the previous week's window
    assert s.active(at(0, 0, 59))
    assert not s.active(at(0, 1, 0))
    assert not s.active(at(2, 0, 30))


def test_weekly_window_within_a_minute() -> None:
    s = weekly(2 * 1440 + 12 * 60, 1)  # Wednesday 12:00 for one minute
    assert s.active(at(2, 12, 0))
    assert s.active(at(2, 12, 0) + 59.9)
    assert not s.active(at(2, 12, 1))
    assert not s.active(at(2, 11, 59) + 59.9)


def test_weekly_zero_minutes_is_never_active() -> None:
    s = weekly(0, 0)
    assert not any(s.active(at(0, 0, m)) for m in range(5))


def test_weekly_covers_respects_the_host() -> None:
    s = weekly(0, 60, host_id=3)
    assert s.covers(3, at(0, 0, 10))
    assert not s.covers(4, at(0, 0, 10))
    assert weekly(0, 60, host_id=None).covers(4, at(0, 0, 10))


@given(
    start=st.integers(0, WEEK_MINUTES - 1),
    length=st.integers(0, WEEK_MINUTES - 1),
    minute=st.integers(0, WEEK_MINUTES - 1),
    week=st.integers(-1000, 1000),
)
def test_weekly_matches_a_calendar_computation(
    start: int, length: int, minute: int, week: int
) -> None:
    now = MONDAY + week * WEEK + minute * 60
    moment = datetime.fromtimestamp(now, UTC)
    minute_of_week = moment.weekday() * 1440 + moment.hour * 60 + moment.minute
    assert minute_of_week == minute
    inside = any((start + k) % WEEK_MINUTES == minute for k in range(length))
    assert weekly(start, length).active(now) is inside


@pytest.mark.parametrize("host_id", [None, 1])
def test_silence_kinds_behave_alike(host_id: int | None) -> None:
    for kind in SilenceKind:
        s = Silence(5, host_id, kind, starts_at=10, ends_at=20)
        assert s.covers(1, 15)
        assert not s.covers(1, 20)

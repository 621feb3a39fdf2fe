"""Snoozes and maintenance windows: times when a host's incidents notify nobody."""

from __future__ import annotations

from dataclasses import dataclass

from vpshealth.clock import Clock
from vpshealth.domain.silences import WEEK_MINUTES, Silence, SilenceKind
from vpshealth.operations.errors import FieldError, NotFoundError
from vpshealth.operations.hosts import HostOperations
from vpshealth.operations.silence_input import (
    duration_seconds,
    start_time,
    weekly_minute,
    window_text,
)
from vpshealth.store.silence_repository import SilenceRepository


@dataclass(frozen=True, slots=True)
class WindowView:
    silence: Silence
    host_name: str | None
    """None: every host."""
    when: str
    active: bool


class SilenceOperations:
    def __init__(self, silences: SilenceRepository, hosts: HostOperations, clock: Clock) -> None:
        self._silences = silences
        self._hosts = hosts
        self._clock = clock

    def _now(self) -> int:
        return int(self._clock.now())

    def _host_id(self, host_name: str | None) -> int | None:
        return None if host_name is None else self._hosts.get(host_name).id

    def snooze(self, host_name: str | None, duration: str | int, reason: str = "") -> int:
        """No notifications about the host (None: every host) for ``duration`` (text like
        2h, or seconds); returns when the snooze ends."""
        host_id = self._host_id(host_name)
        now = self._now()
        until = now + duration_seconds(duration, "duration")
        self._silences.snooze(host_id, until, now, reason)
        return until

    def snooze_until(self, host_name: str | None, until: int, reason: str = "") -> int:
        host_id = self._host_id(host_name)
        now = self._now()
        if until <= now:
            raise FieldError("until", "the end of a snooze must be in the future")
        self._silences.snooze(host_id, until, now, reason)
        return until

    def end_snooze(self, host_name: str | None) -> int:
        """End the host's (None: the every-host) snoozes; how many were running."""
        return self._silences.end_snoozes(self._host_id(host_name), self._now())

    def add_window(
        self,
        host_name: str | None,
        *,
        duration: str | int,
        start: str | int | None = None,
        weekly: str | None = None,
        reason: str = "",
    ) -> WindowView:
        """A maintenance window: one-off from ``start`` ('YYYY-MM-DD HH:MM' local time, 'now'
        or Unix seconds) or ``weekly`` ('sun 03:00' local time), lasting ``duration``."""
        host_id = self._host_id(host_name)
        if (start is None) == (weekly is None):
            raise FieldError("start", "give either a start (one-off) or weekly, not both")
        minutes = duration_seconds(duration, "duration") // 60
        if minutes < 1:
            raise FieldError(
                "duration", "must be at least 1 minute", wording="{label} must be at least 1 minute"
            )
        now = self._now()
        if weekly is not None:
            if minutes >= WEEK_MINUTES:
                raise FieldError(
                    "duration",
                    "must be shorter than a week for a weekly window",
                    wording="{label} of a weekly window must be shorter than a week",
                )
            window_id = self._silences.add_weekly(
                host_id, SilenceKind.MAINTENANCE, weekly_minute(weekly), minutes,
                now=now, reason=reason,
            )  # fmt: skip
        else:
            assert start is not None
            begins = start_time(start, now)
            window_id = self._silences.add_one_off(
                host_id, SilenceKind.MAINTENANCE, begins, begins + minutes * 60,
                now=now, reason=reason,
            )  # fmt: skip
        return next(w for w in self.windows() if w.silence.id == window_id)

    def windows(self, host_name: str | None = None) -> list[WindowView]:
        """Snoozes and windows active now or later; for a host, its own and every host's."""
        host_id = self._host_id(host_name)
        now = self._now()
        names = self._hosts.names()
        return [
            WindowView(s, names.get(s.host_id) if s.host_id is not None else None,
                       window_text(s), s.active(now))
            for s in self._silences.current(now)
            if host_id is None or s.host_id in (None, host_id)
        ]  # fmt: skip

    def remove_window(self, window_id: int) -> None:
        if not self._silences.remove(window_id):
            raise NotFoundError(
                f"There is no window {window_id}. `vpshealth maintenance` lists them."
            )

"""The node's notifications on the desktop: each shown once, across restarts and desktops; a
new copy does not replay the node's past; a long absence gives one summary."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.store.database import open_database
from vpshealth.store.schema import notifications
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.sync.desk_notices import NOTIFIED_AFTER_KEY, DeskNotices, NoticeRule, to_show

NOW = 1_800_000_000


def note(
    kind: str = "opened", at: int = NOW, subject: str = "/", severity: str = "critical"
) -> Notification:
    return Notification(
        kind=NotificationKind(kind), severity=Severity(severity), host_name="web1",
        host_address="192.0.2.1", rule="disk", subject=subject, title=f"disk {subject} at 97%",
        message="disk at 97%", since=at, at=at,
    )  # fmt: skip


class Shown:
    def __init__(self) -> None:
        self.shown: list[Notification] = []

    def notify(self, notifications: Sequence[Notification]) -> None:
        self.shown.extend(notifications)


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "copy.sqlite3")
    yield engine
    engine.dispose()


def arrive(copy: Engine, *notes: Notification) -> None:
    """As a catch-up stores them."""
    with copy.begin() as conn:
        for n in notes:
            conn.execute(
                insert(notifications).values(
                    kind=n.kind.value, severity=n.severity.value, created_at=n.at,
                    payload=json.dumps(n.to_json()),
                )
            )  # fmt: skip


def test_a_new_copy_does_not_replay_the_nodes_past(copy: Engine) -> None:
    arrive(copy, note(at=NOW - 86_400), note("resolved", at=NOW - 80_000))
    shown = Shown()

    assert DeskNotices(copy, [shown]).after_sync(NOW) == []
    arrive(copy, note(subject="/var"))
    DeskNotices(copy, [shown]).after_sync(NOW + 5)

    assert [n.subject for n in shown.shown] == ["/var"]


def test_each_is_shown_once_across_restarts_and_on_each_desktop(tmp_path: Path) -> None:
    desktops = [open_database(tmp_path / f"copy{i}.sqlite3") for i in range(2)]
    shown = [Shown(), Shown()]
    try:
        for copy, seen in zip(desktops, shown, strict=True):
            DeskNotices(copy, [seen]).after_sync(NOW)
            arrive(copy, note(), note("resolved", at=NOW + 60))
            DeskNotices(copy, [seen]).after_sync(NOW + 61)
            DeskNotices(copy, [seen]).after_sync(NOW + 62)  # a restart: a new runner
            arrive(copy, note(subject="/var", at=NOW + 70))
            DeskNotices(copy, [seen]).after_sync(NOW + 71)
            DeskNotices(copy, [seen]).after_sync(NOW + 72)
    finally:
        for copy in desktops:
            copy.dispose()

    for seen in shown:
        assert [(n.kind.value, n.subject) for n in seen.shown] == [
            ("opened", "/"),
            ("resolved", "/"),
            ("opened", "/var"),
        ]


def test_a_burst_after_an_absence_is_one_summary(copy: Engine) -> None:
    DeskNotices(copy, []).after_sync(NOW)
    arrive(
        copy,
        *(note(subject=s, at=NOW + i) for i, s in enumerate(["/", "/var", "/srv"])),
        *(note("resolved", subject=s, at=NOW + 10 + i) for i, s in enumerate(["/", "/var"])),
    )
    shown = Shown()

    DeskNotices(copy, [shown]).after_sync(NOW + 20)

    (one,) = shown.shown
    assert one.summary == "While you were away: 3 incidents opened, 2 resolved"
    assert one.severity is Severity.CRITICAL  # /srv is still open
    assert "Resolved: web1: disk /var at 97%" in one.message
    assert copy_cursor(copy) > 0


def copy_cursor(copy: Engine) -> int:
    return int(SettingsRepository(copy).get(NOTIFIED_AFTER_KEY))


def test_a_few_old_ones_are_a_summary_too_and_everything_resolved_is_not_critical() -> None:
    waiting = [note(at=NOW - 3600), note("resolved", at=NOW - 1800)]

    (one,) = to_show(waiting, NOW, NoticeRule(burst=3, away_seconds=600))

    assert one.title == "1 incident opened, 1 resolved"
    assert one.severity is Severity.WARNING


def test_a_notifier_that_fails_does_not_stop_the_others(copy: Engine) -> None:
    class Broken:
        def notify(self, notifications: Sequence[Notification]) -> None:
            raise RuntimeError("no tray")

    DeskNotices(copy, []).after_sync(NOW)
    arrive(copy, note())
    shown = Shown()

    DeskNotices(copy, [Broken(), shown]).after_sync(NOW + 1)

    assert len(shown.shown) == 1


kinds = st.sampled_from([k.value for k in NotificationKind])


@given(
    st.lists(st.tuples(kinds, st.integers(0, 7200)), max_size=12),
    st.integers(1, 6),
    st.integers(60, 3600),
)
def test_the_rule_shows_each_alone_or_one_summary_that_counts_them_all(
    drawn: list[tuple[str, int]], burst: int, away: int
) -> None:
    waiting = [note(kind, at=NOW - age) for kind, age in drawn]

    shown = to_show(waiting, NOW, NoticeRule(burst=burst, away_seconds=away))

    if not waiting:
        assert shown == []
    elif len(waiting) <= burst and all(NOW - n.at <= away for n in waiting):
        assert shown == waiting
    else:
        (one,) = shown
        counted = sum(int(part.split()[0]) for part in one.title.split(", "))
        assert counted == len(waiting)
        assert one.summary.startswith("While you were away: ")

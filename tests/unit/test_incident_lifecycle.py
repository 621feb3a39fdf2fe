"""The incident lifecycle: open, escalate, resolve, remind, flap, quiet start, silences,
acknowledgements, restore; what is written and what is notified, exactly once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.alert_builders import CRITICAL, HOUR, MINUTE, T0, WARNING, change
from vpshealth.domain.containers import Severity
from vpshealth.domain.incident_lifecycle import (
    Incident,
    IncidentBook,
    IncidentKey,
    Notice,
    Outcome,
    Policy,
    Write,
    WriteKind,
)
from vpshealth.domain.notifications import NotificationKind

HOST = 1
OTHER = 2
CPU: IncidentKey = (HOST, "cpu", "")
NORMAL = Policy()
QUIET = Policy(quiet=True)
SILENCED = Policy(silenced=True)

OPENED = NotificationKind.OPENED
ESCALATED = NotificationKind.ESCALATED
REMINDER = NotificationKind.REMINDER
FLAPPING = NotificationKind.FLAPPING
RESOLVED = NotificationKind.RESOLVED

OPEN = WriteKind.OPEN
UPDATE = WriteKind.UPDATE
RESOLVE = WriteKind.RESOLVE


def notices(outcome: Outcome) -> list[tuple[NotificationKind, int]]:
    return [(n.kind, n.at) for n in outcome.notices]


def writes(outcome: Outcome) -> list[tuple[WriteKind, int]]:
    return [(w.kind, w.at) for w in outcome.writes]


def always(policy: Policy) -> Callable[[int], Policy]:
    return lambda _host_id: policy


def open_cpu(book: IncidentBook, at: int = T0, policy: Policy = NORMAL) -> Outcome:
    return book.apply(HOST, change("cpu", WARNING, at, message="CPU at 90%"), policy)


def resolve_cpu(book: IncidentBook, at: int, policy: Policy = NORMAL) -> Outcome:
    return book.apply(HOST, change("cpu", None, at, message="CPU back to 50%"), policy)


def the_incident(book: IncidentBook, key: IncidentKey = CPU) -> Incident:
    found = [i for i in book.open_incidents() if i.key == key]
    assert len(found) == 1
    return found[0]


# --- open, same again, escalate, resolve --------------------------------------------------


def test_open_notifies_once_and_writes_the_incident() -> None:
    book = IncidentBook()
    outcome = open_cpu(book)
    assert notices(outcome) == [(OPENED, T0)]
    assert writes(outcome) == [(OPEN, T0)]
    notice = outcome.notices[0]
    assert notice.message == "CPU at 90%"
    assert notice.incident.key == CPU
    assert notice.incident.severity is WARNING
    assert notice.incident.opened_at == T0
    assert outcome.writes[0].incident.last_notified_at == T0
    assert the_incident(book).notified


def test_the_same_condition_again_notifies_nothing() -> None:
    book = IncidentBook()
    open_cpu(book)
    again = open_cpu(book, T0 + 60)
    assert notices(again) == []
    assert writes(again) == [(UPDATE, T0 + 60)]
    assert len(book.open_incidents()) == 1
    assert the_incident(book).opened_at == T0


def test_open_copies_the_change() -> None:
    book = IncidentBook()
    c = dataclasses.replace(
        change("restart_loop", CRITICAL, T0, subject="shop-web", message="looping", value=4.0),
        threshold=3.0,
        unit="restarts",
        app="shop / web",
        container_id="abc",
        container_name="shop-web",
    )
    incident = book.apply(HOST, c, NORMAL).writes[0].incident
    assert incident == Incident(
        host_id=HOST,
        rule="restart_loop",
        subject="shop-web",
        severity=CRITICAL,
        opened_at=T0,
        message="looping",
        value=4.0,
        threshold=3.0,
        unit="restarts",
        app="shop / web",
        container_id="abc",
        container_name="shop-web",
        last_notified_at=T0,
    )


def test_escalation_notifies_once() -> None:
    book = IncidentBook()
    open_cpu(book)
    up = book.apply(HOST, change("cpu", CRITICAL, T0 + 60, message="CPU at 97%"), NORMAL)
    assert notices(up) == [(ESCALATED, T0 + 60)]
    assert writes(up) == [(UPDATE, T0 + 60)]
    assert up.notices[0].message == "CPU at 97%"
    assert up.notices[0].incident.severity is CRITICAL
    same = book.apply(HOST, change("cpu", CRITICAL, T0 + 120), NORMAL)
    assert notices(same) == []
    assert the_incident(book).last_notified_at == T0 + 60


def test_downgrade_is_written_not_notified() -> None:
    book = IncidentBook()
    book.apply(HOST, change("cpu", CRITICAL, T0), NORMAL)
    down = book.apply(HOST, change("cpu", WARNING, T0 + 60, message="CPU at 88%"), NORMAL)
    assert notices(down) == []
    assert writes(down) == [(UPDATE, T0 + 60)]
    assert down.writes[0].incident.severity is WARNING
    assert down.writes[0].incident.message == "CPU at 88%"
    # up again: that is an escalation
    assert notices(book.apply(HOST, change("cpu", CRITICAL, T0 + 120), NORMAL)) == [
        (ESCALATED, T0 + 120)
    ]


def test_no_escalation_notice_when_acknowledged() -> None:
    book = IncidentBook()
    open_cpu(book)
    book.set_acknowledged({CPU})
    up = book.apply(HOST, change("cpu", CRITICAL, T0 + 60), NORMAL)
    assert notices(up) == []
    assert writes(up) == [(UPDATE, T0 + 60)]
    assert the_incident(book).severity is CRITICAL


@pytest.mark.parametrize("policy", [QUIET, SILENCED], ids=["quiet", "silenced"])
def test_no_escalation_notice_when_quiet_or_silenced(policy: Policy) -> None:
    book = IncidentBook()
    open_cpu(book)
    up = book.apply(HOST, change("cpu", CRITICAL, T0 + 60), policy)
    assert notices(up) == []
    assert writes(up) == [(UPDATE, T0 + 60)]


def test_no_escalation_notice_for_an_unannounced_incident() -> None:
    book = IncidentBook()
    open_cpu(book, policy=QUIET)
    assert notices(book.apply(HOST, change("cpu", CRITICAL, T0 + 60), NORMAL)) == []
    # the tick announces it, at its current severity
    tick = book.tick(T0 + 62, always(NORMAL))
    assert notices(tick) == [(OPENED, T0 + 62)]
    assert tick.notices[0].incident.severity is CRITICAL


def test_resolve_notifies_when_the_opening_was_notified() -> None:
    book = IncidentBook()
    open_cpu(book)
    outcome = resolve_cpu(book, T0 + 600)
    assert notices(outcome) == [(RESOLVED, T0 + 600)]
    assert outcome.notices[0].message == "CPU back to 50%"
    assert writes(outcome) == [(RESOLVE, T0 + 600)]
    assert outcome.writes[0].resolution == "CPU back to 50%"
    assert book.open_incidents() == []


def test_resolve_of_an_unnotified_incident_is_silent() -> None:
    book = IncidentBook()
    open_cpu(book, policy=QUIET)
    outcome = resolve_cpu(book, T0 + 60)
    assert notices(outcome) == []
    assert writes(outcome) == [(RESOLVE, T0 + 60)]


def test_resolve_of_nothing_does_nothing() -> None:
    book = IncidentBook()
    assert resolve_cpu(book, T0) == Outcome()
    open_cpu(book)
    resolve_cpu(book, T0 + 60)
    assert resolve_cpu(book, T0 + 120) == Outcome()


def test_resolve_while_silenced_still_tells_the_recovery() -> None:
    book = IncidentBook()
    open_cpu(book)
    assert notices(resolve_cpu(book, T0 + 60, SILENCED)) == [(RESOLVED, T0 + 60)]


def test_reopen_after_resolve_is_a_new_incident() -> None:
    book = IncidentBook()
    open_cpu(book)
    resolve_cpu(book, T0 + 60)
    again = open_cpu(book, T0 + 3600)
    assert notices(again) == [(OPENED, T0 + 3600)]
    assert writes(again) == [(OPEN, T0 + 3600)]
    assert the_incident(book).opened_at == T0 + 3600


def test_incidents_are_per_host_rule_and_subject() -> None:
    book = IncidentBook()
    open_cpu(book)
    book.apply(OTHER, change("cpu", WARNING, T0), NORMAL)
    book.apply(HOST, change("disk", WARNING, T0, subject="/"), NORMAL)
    book.apply(HOST, change("disk", CRITICAL, T0, subject="/var"), NORMAL)
    assert {i.key for i in book.open_incidents()} == {
        CPU,
        (OTHER, "cpu", ""),
        (HOST, "disk", "/"),
        (HOST, "disk", "/var"),
    }
    assert {i.key for i in book.open_incidents(OTHER)} == {(OTHER, "cpu", "")}
    assert book.active_conditions(HOST) == {
        ("cpu", ""): WARNING,
        ("disk", "/"): WARNING,
        ("disk", "/var"): CRITICAL,
    }


def test_app_is_kept_when_an_update_has_none() -> None:
    book = IncidentBook()
    book.apply(HOST, change("crashed", CRITICAL, T0, subject="web", app="shop"), NORMAL)
    book.apply(HOST, change("crashed", CRITICAL, T0 + 1, subject="web"), NORMAL)
    assert the_incident(book, (HOST, "crashed", "web")).app == "shop"
    book.apply(HOST, change("crashed", CRITICAL, T0 + 2, subject="web", app="blog"), NORMAL)
    assert the_incident(book, (HOST, "crashed", "web")).app == "blog"


def test_notices_and_writes_are_snapshots() -> None:
    book = IncidentBook()
    opened = open_cpu(book)
    book.apply(HOST, change("cpu", CRITICAL, T0 + 60), NORMAL)
    assert opened.notices[0].incident.severity is WARNING
    assert opened.writes[0].incident.severity is WARNING


# --- reminders ----------------------------------------------------------------------------


def test_reminders_every_reminder_seconds() -> None:
    book = IncidentBook()
    policy = Policy(reminder_seconds=HOUR)
    open_cpu(book, policy=policy)
    assert book.tick(T0 + HOUR - 1, always(policy)) == Outcome()
    first = book.tick(T0 + HOUR, always(policy))
    assert notices(first) == [(REMINDER, T0 + HOUR)]
    assert first.notices[0].message == "still open: CPU at 90%"
    assert writes(first) == [(UPDATE, T0 + HOUR)]
    assert first.writes[0].incident.reminders_sent == 1
    assert book.tick(T0 + HOUR + 1, always(policy)) == Outcome()
    assert book.tick(T0 + 2 * HOUR - 1, always(policy)) == Outcome()
    assert notices(book.tick(T0 + 2 * HOUR, always(policy))) == [(REMINDER, T0 + 2 * HOUR)]
    assert the_incident(book).reminders_sent == 2


def test_reminders_count_from_the_latest_notice() -> None:
    book = IncidentBook()
    policy = Policy(reminder_seconds=HOUR)
    open_cpu(book, policy=policy)
    book.apply(HOST, change("cpu", CRITICAL, T0 + 30 * MINUTE), policy)  # escalated: notified
    assert book.tick(T0 + HOUR, always(policy)) == Outcome()
    assert notices(book.tick(T0 + 90 * MINUTE, always(policy))) == [(REMINDER, T0 + 90 * MINUTE)]


def test_a_late_tick_sends_one_reminder() -> None:
    book = IncidentBook()
    policy = Policy(reminder_seconds=HOUR)
    open_cpu(book, policy=policy)
    assert notices(book.tick(T0 + 10 * HOUR, always(policy))) == [(REMINDER, T0 + 10 * HOUR)]
    assert book.tick(T0 + 10 * HOUR + 1, always(policy)) == Outcome()


def test_no_reminders_when_reminder_seconds_is_zero() -> None:
    book = IncidentBook()
    policy = Policy(reminder_seconds=0)
    open_cpu(book, policy=policy)
    for hours in (1, 4, 100, 10_000):
        assert book.tick(T0 + hours * HOUR, always(policy)) == Outcome()


def test_no_reminders_when_acknowledged() -> None:
    book = IncidentBook()
    policy = Policy(reminder_seconds=HOUR)
    open_cpu(book, policy=policy)
    book.set_acknowledged({CPU})
    assert book.tick(T0 + 5 * HOUR, always(policy)) == Outcome()
    book.set_acknowledged(set())  # un-acknowledged again: reminders resume
    assert notices(book.tick(T0 + 6 * HOUR, always(policy))) == [(REMINDER, T0 + 6 * HOUR)]


def test_no_reminders_while_silenced() -> None:
    book = IncidentBook()
    open_cpu(book)
    silenced = Policy(silenced=True, reminder_seconds=HOUR)
    assert book.tick(T0 + 3 * HOUR, always(silenced)) == Outcome()
    assert book.tick(T0 + 3 * HOUR, always(Policy(quiet=True, reminder_seconds=HOUR))) == (
        Outcome()
    )
    # the silence is over: the overdue reminder goes out at once
    after = book.tick(T0 + 3 * HOUR + 2, always(Policy(reminder_seconds=HOUR)))
    assert notices(after) == [(REMINDER, T0 + 3 * HOUR + 2)]


def test_default_reminder_is_four_hours() -> None:
    book = IncidentBook()
    open_cpu(book)
    assert book.tick(T0 + 4 * HOUR - 1, always(NORMAL)) == Outcome()
    assert notices(book.tick(T0 + 4 * HOUR, always(NORMAL))) == [(REMINDER, T0 + 4 * HOUR)]


def test_reminders_per_host_policy() -> None:
    book = IncidentBook()
    open_cpu(book)
    book.apply(OTHER, change("cpu", WARNING, T0), NORMAL)
    policies = {HOST: Policy(reminder_seconds=HOUR), OTHER: Policy(reminder_seconds=0)}
    tick = book.tick(T0 + HOUR, policies.__getitem__)
    assert [(n.kind, n.incident.host_id) for n in tick.notices] == [(REMINDER, HOST)]


# --- flapping -----------------------------------------------------------------------------

FLAPPY = Policy(flap_cycles=3, flap_seconds=30 * MINUTE)


def cycle(book: IncidentBook, at: int, policy: Policy = FLAPPY) -> tuple[Outcome, Outcome]:
    """Open at ``at`` and resolve a minute later."""
    return open_cpu(book, at, policy), resolve_cpu(book, at + MINUTE, policy)


def test_the_fourth_open_within_the_window_is_one_flapping_notice() -> None:
    book = IncidentBook()
    for i in range(3):
        opened, resolved = cycle(book, T0 + i * 5 * MINUTE)
        assert notices(opened) == [(OPENED, T0 + i * 5 * MINUTE)]
        assert notices(resolved) == [(RESOLVED, T0 + i * 5 * MINUTE + MINUTE)]
    fourth = open_cpu(book, T0 + 15 * MINUTE, FLAPPY)
    assert notices(fourth) == [(FLAPPING, T0 + 15 * MINUTE)]
    assert writes(fourth) == [(OPEN, T0 + 15 * MINUTE)]
    assert fourth.notices[0].message == (
        "CPU at 90% — flapping: 4 times recently; no more messages until it has been stable "
        "for a while"
    )
    assert the_incident(book).flapping


def test_further_cycles_of_a_flapping_incident_notify_nothing() -> None:
    book = IncidentBook()
    for i in range(3):
        cycle(book, T0 + i * 5 * MINUTE)
    open_cpu(book, T0 + 15 * MINUTE, FLAPPY)
    t = T0 + 16 * MINUTE
    cleared = resolve_cpu(book, t, FLAPPY)
    assert cleared == Outcome([Write(UPDATE, cleared.writes[0].incident, t)])
    assert not cleared.writes[0].incident.active
    assert cleared.writes[0].incident.cleared_at == t
    assert book.active_conditions(HOST) == {}
    assert len(book.open_incidents()) == 1  # held open until it has been stable
    for k in range(1, 4):
        at = t + k * 5 * MINUTE
        again = book.apply(HOST, change("cpu", CRITICAL, at), FLAPPY)  # even worse: quiet
        assert notices(again) == []
        assert writes(again) == [(UPDATE, at)]
        assert book.active_conditions(HOST) == {("cpu", ""): CRITICAL}
        assert notices(resolve_cpu(book, at + MINUTE, FLAPPY)) == []
        assert book.tick(at + 2 * MINUTE, always(FLAPPY)) == Outcome()


def test_a_flapping_incident_sends_no_reminders_while_it_holds() -> None:
    book = IncidentBook()
    for i in range(3):
        cycle(book, T0 + i * 5 * MINUTE)
    open_cpu(book, T0 + 15 * MINUTE, FLAPPY)
    assert notices(book.tick(T0 + 15 * MINUTE + 10 * HOUR, always(FLAPPY))) == []
    assert the_incident(book).reminders_sent == 0


def test_flapping_resolves_once_after_staying_clear() -> None:
    book = IncidentBook()
    for i in range(3):
        cycle(book, T0 + i * 5 * MINUTE)
    open_cpu(book, T0 + 15 * MINUTE, FLAPPY)
    cleared_at = T0 + 16 * MINUTE
    resolve_cpu(book, cleared_at, FLAPPY)
    assert book.tick(cleared_at + 30 * MINUTE - 1, always(FLAPPY)) == Outcome()
    done = book.tick(cleared_at + 30 * MINUTE, always(FLAPPY))
    assert notices(done) == [(RESOLVED, cleared_at + 30 * MINUTE)]
    assert done.notices[0].message == "stable again after flapping"
    assert writes(done) == [(RESOLVE, cleared_at + 30 * MINUTE)]
    assert done.writes[0].resolution == "stable again after flapping"
    assert book.open_incidents() == []
    assert book.tick(cleared_at + HOUR, always(FLAPPY)) == Outcome()


def test_a_flapping_incident_opening_again_waits_anew() -> None:
    book = IncidentBook()
    for i in range(3):
        cycle(book, T0 + i * 5 * MINUTE)
    open_cpu(book, T0 + 15 * MINUTE, FLAPPY)
    resolve_cpu(book, T0 + 16 * MINUTE, FLAPPY)
    open_cpu(book, T0 + 40 * MINUTE, FLAPPY)
    assert book.tick(T0 + 50 * MINUTE, always(FLAPPY)) == Outcome()  # active: not resolved
    resolve_cpu(book, T0 + 60 * MINUTE, FLAPPY)
    assert book.tick(T0 + 89 * MINUTE, always(FLAPPY)) == Outcome()
    assert notices(book.tick(T0 + 90 * MINUTE, always(FLAPPY))) == [(RESOLVED, T0 + 90 * MINUTE)]


def test_a_repeated_resolve_does_not_restart_the_stable_wait() -> None:
    book = IncidentBook()
    for i in range(3):
        cycle(book, T0 + i * 5 * MINUTE)
    open_cpu(book, T0 + 15 * MINUTE, FLAPPY)
    resolve_cpu(book, T0 + 16 * MINUTE, FLAPPY)
    assert resolve_cpu(book, T0 + 30 * MINUTE, FLAPPY) == Outcome()
    assert the_incident(book).cleared_at == T0 + 16 * MINUTE
    assert notices(book.tick(T0 + 46 * MINUTE, always(FLAPPY))) == [(RESOLVED, T0 + 46 * MINUTE)]


def test_cycles_spread_wider_than_the_window_are_not_flapping() -> None:
    book = IncidentBook()
    for i in range(6):
        opened, _ = cycle(book, T0 + i * 11 * MINUTE)
        assert notices(opened) == [(OPENED, T0 + i * 11 * MINUTE)]


def test_flap_cycles_setting() -> None:
    book = IncidentBook()
    policy = Policy(flap_cycles=1, flap_seconds=HOUR)
    assert notices(cycle(book, T0, policy)[0]) == [(OPENED, T0)]
    assert notices(open_cpu(book, T0 + 10 * MINUTE, policy)) == [(FLAPPING, T0 + 10 * MINUTE)]


def test_flapping_is_per_key() -> None:
    book = IncidentBook()
    for i in range(3):
        cycle(book, T0 + i * 5 * MINUTE)
    other = book.apply(HOST, change("memory", WARNING, T0 + 15 * MINUTE), FLAPPY)
    assert notices(other) == [(OPENED, T0 + 15 * MINUTE)]


def test_flapping_opened_while_quiet_is_announced_as_flapping() -> None:
    book = IncidentBook()
    quiet = dataclasses.replace(FLAPPY, quiet=True)
    for i in range(3):
        cycle(book, T0 + i * 5 * MINUTE, quiet)
    assert notices(open_cpu(book, T0 + 15 * MINUTE, quiet)) == []
    assert notices(book.tick(T0 + 16 * MINUTE, always(FLAPPY))) == [(FLAPPING, T0 + 16 * MINUTE)]


# --- quiet start and silences -------------------------------------------------------------


@pytest.mark.parametrize("held", [QUIET, SILENCED], ids=["quiet", "silenced"])
def test_an_opening_is_held_and_announced_after(held: Policy) -> None:
    book = IncidentBook()
    opened = open_cpu(book, T0, held)
    assert notices(opened) == []
    assert writes(opened) == [(OPEN, T0)]
    assert opened.writes[0].incident.last_notified_at is None
    assert book.tick(T0 + 10, always(held)) == Outcome()
    announced = book.tick(T0 + 20, always(NORMAL))
    assert notices(announced) == [(OPENED, T0 + 20)]
    assert announced.notices[0].message == "CPU at 90%"
    assert writes(announced) == [(UPDATE, T0 + 20)]
    assert announced.writes[0].incident.last_notified_at == T0 + 20
    assert book.tick(T0 + 30, always(NORMAL)) == Outcome()
    assert notices(resolve_cpu(book, T0 + 40)) == [(RESOLVED, T0 + 40)]


@pytest.mark.parametrize("held", [QUIET, SILENCED], ids=["quiet", "silenced"])
def test_an_opening_that_resolved_while_held_is_dropped_silently(held: Policy) -> None:
    book = IncidentBook()
    open_cpu(book, T0, held)
    resolved = resolve_cpu(book, T0 + 10, held)
    assert notices(resolved) == []
    assert writes(resolved) == [(RESOLVE, T0 + 10)]
    assert book.tick(T0 + 20, always(NORMAL)) == Outcome()


def test_held_openings_are_announced_per_host() -> None:
    book = IncidentBook()
    open_cpu(book, T0, QUIET)
    book.apply(OTHER, change("cpu", WARNING, T0), QUIET)
    policies = {HOST: NORMAL, OTHER: QUIET}
    tick = book.tick(T0 + 10, policies.__getitem__)
    assert [(n.kind, n.incident.host_id) for n in tick.notices] == [(OPENED, HOST)]


def test_an_acknowledged_held_opening_is_still_announced() -> None:
    book = IncidentBook()
    open_cpu(book, T0, QUIET)
    book.set_acknowledged({CPU})
    assert notices(book.tick(T0 + 10, always(NORMAL))) == [(OPENED, T0 + 10)]


# --- restore, acknowledgements, forgetting ------------------------------------------------


def restored(last_notified_at: int | None, severity: Severity = WARNING) -> Incident:
    return Incident(
        host_id=HOST,
        rule="cpu",
        subject="",
        severity=severity,
        opened_at=T0 - HOUR,
        message="CPU at 90%",
        last_notified_at=last_notified_at,
    )


def test_restored_notified_incidents_do_not_notify_again() -> None:
    book = IncidentBook()
    book.restore([restored(T0 - HOUR)])
    assert notices(open_cpu(book, T0)) == []
    assert book.tick(T0 + 1, always(NORMAL)) == Outcome()
    assert the_incident(book).opened_at == T0 - HOUR
    assert notices(resolve_cpu(book, T0 + 60)) == [(RESOLVED, T0 + 60)]


def test_restored_incident_reminder_counts_from_its_last_notice() -> None:
    book = IncidentBook()
    book.restore([restored(T0 - 3 * HOUR)])
    assert book.tick(T0 + HOUR - 1, always(NORMAL)) == Outcome()
    assert notices(book.tick(T0 + HOUR, always(NORMAL))) == [(REMINDER, T0 + HOUR)]


def test_restored_unnotified_incident_is_announced_at_the_first_free_tick() -> None:
    book = IncidentBook()
    book.restore([restored(None)])
    assert book.tick(T0, always(QUIET)) == Outcome()
    assert notices(book.tick(T0 + 2, always(NORMAL))) == [(OPENED, T0 + 2)]


def test_restored_incident_escalates() -> None:
    book = IncidentBook()
    book.restore([restored(T0 - HOUR)])
    assert notices(book.apply(HOST, change("cpu", CRITICAL, T0), NORMAL)) == [(ESCALATED, T0)]


def test_set_acknowledged_marks_exactly_the_given_keys() -> None:
    book = IncidentBook()
    open_cpu(book)
    book.apply(HOST, change("memory", WARNING, T0), NORMAL)
    book.set_acknowledged({CPU, (HOST, "disk", "/")})
    assert {i.key: i.acknowledged for i in book.open_incidents()} == {
        CPU: True,
        (HOST, "memory", ""): False,
    }
    book.set_acknowledged({(HOST, "memory", "")})
    assert {i.key: i.acknowledged for i in book.open_incidents()} == {
        CPU: False,
        (HOST, "memory", ""): True,
    }


def test_forget_host_drops_its_incidents_and_history() -> None:
    book = IncidentBook()
    for i in range(3):
        cycle(book, T0 + i * 5 * MINUTE)
    open_cpu(book, T0 + 15 * MINUTE, FLAPPY)
    book.apply(OTHER, change("cpu", WARNING, T0), NORMAL)
    book.forget_host(HOST)
    assert [i.key for i in book.open_incidents()] == [(OTHER, "cpu", "")]
    assert book.active_conditions(HOST) == {}
    assert book.tick(T0 + 16 * MINUTE, always(FLAPPY)) == Outcome()
    # the flapping history went with it: the next opening is a plain one
    assert notices(open_cpu(book, T0 + 17 * MINUTE, FLAPPY)) == [(OPENED, T0 + 17 * MINUTE)]


# --- writes -------------------------------------------------------------------------------


def test_write_kinds_in_order() -> None:
    book = IncidentBook()
    policy = Policy(reminder_seconds=HOUR)
    outcome = Outcome()
    outcome.extend(open_cpu(book, T0, QUIET))
    outcome.extend(book.tick(T0 + 2, always(policy)))
    outcome.extend(book.apply(HOST, change("cpu", CRITICAL, T0 + 60), policy))
    outcome.extend(book.tick(T0 + HOUR + 60, always(policy)))
    outcome.extend(resolve_cpu(book, T0 + 2 * HOUR, policy))
    assert writes(outcome) == [
        (OPEN, T0),
        (UPDATE, T0 + 2),
        (UPDATE, T0 + 60),
        (UPDATE, T0 + HOUR + 60),
        (RESOLVE, T0 + 2 * HOUR),
    ]
    assert notices(outcome) == [
        (OPENED, T0 + 2),
        (ESCALATED, T0 + 60),
        (REMINDER, T0 + HOUR + 60),
        (RESOLVED, T0 + 2 * HOUR),
    ]
    assert all(isinstance(n, Notice) for n in outcome.notices)


def test_outcome_extend_concatenates() -> None:
    book = IncidentBook()
    a = open_cpu(book)
    b = resolve_cpu(book, T0 + 1)
    total = Outcome()
    total.extend(a)
    total.extend(b)
    assert total.writes == a.writes + b.writes
    assert total.notices == a.notices + b.notices


def test_policy_defaults() -> None:
    assert Policy() == Policy(
        quiet=False,
        silenced=False,
        reminder_seconds=4 * HOUR,
        flap_cycles=3,
        flap_seconds=30 * MINUTE,
    )


# --- properties ---------------------------------------------------------------------------

_KEYS = [("cpu", ""), ("disk", "/"), ("crashed", "web")]
_policy = st.builds(
    Policy,
    quiet=st.booleans(),
    silenced=st.booleans(),
    reminder_seconds=st.sampled_from([0.0, 300.0, 3600.0]),
    flap_cycles=st.integers(1, 3),
    flap_seconds=st.sampled_from([60.0, 600.0, 1800.0]),
)
_op = st.one_of(
    st.tuples(
        st.just("apply"),
        st.integers(0, 600),
        st.tuples(
            st.integers(1, 2),
            st.sampled_from(_KEYS),
            st.sampled_from([None, WARNING, CRITICAL]),
        ),
        _policy,
    ),
    st.tuples(st.just("tick"), st.integers(0, 3600), st.none(), _policy),
    st.tuples(st.just("restart"), st.just(0), st.none(), _policy),
    st.tuples(
        st.just("ack"),
        st.just(0),
        st.frozensets(st.tuples(st.integers(1, 2), st.sampled_from(_KEYS))),
        _policy,
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_op, max_size=80))
def test_lifecycle_invariants(ops: list[tuple[str, int, object, Policy]]) -> None:
    book = IncidentBook()
    now = T0
    open_keys: set[IncidentKey] = set()
    announced: set[IncidentKey] = set()  # open incidents someone was told about
    last_notice = T0
    for op, gap, payload, policy in ops:
        now += gap
        if op == "apply":
            assert isinstance(payload, tuple)
            host_id, (rule, subject), severity = payload
            outcome = book.apply(host_id, change(rule, severity, now, subject=subject), policy)
        elif op == "tick":
            outcome = book.tick(now, always(policy))
        elif op == "restart":  # the engine restarts and loads the open incidents
            book, previous = IncidentBook(), book
            book.restore(dataclasses.replace(i) for i in previous.open_incidents())
            continue
        else:
            assert isinstance(payload, frozenset)
            book.set_acknowledged({(h, r, s) for h, (r, s) in payload})
            continue
        for write in outcome.writes:
            key = write.incident.key
            assert write.at == now
            if write.kind is OPEN:
                assert key not in open_keys, f"a second open incident for {key}"
                open_keys.add(key)
                announced.discard(key)
            else:
                assert key in open_keys, f"{write.kind} of {key}, which is not open"
                if write.kind is RESOLVE:
                    open_keys.discard(key)
        for notice in outcome.notices:
            key = notice.incident.key
            assert notice.at >= last_notice
            last_notice = notice.at
            if notice.kind in (OPENED, FLAPPING):
                assert key not in announced, f"{key} announced twice"
                announced.add(key)
            else:
                assert key in announced, f"{notice.kind} of {key} before it was announced"
                if notice.kind is RESOLVED:
                    announced.discard(key)
            if notice.kind is not RESOLVED:
                assert not policy.quiet
                assert not policy.silenced
        assert {i.key for i in book.open_incidents()} == open_keys
        keys = [i.key for i in book.open_incidents()]
        assert len(keys) == len(set(keys))
        for incident in book.open_incidents():
            assert incident.notified is (incident.key in announced)


def test_a_replacing_change_moves_the_incident_and_escalates_once() -> None:
    book = IncidentBook()
    crash = dataclasses.replace(change("crashed", CRITICAL, T0, subject="web"), app="shop")
    book.apply(HOST, crash, NORMAL)
    loop = dataclasses.replace(
        change("restart_loop", CRITICAL, T0 + 30, subject="web", message="keeps crashing"),
        replaces="crashed",
    )
    outcome = book.apply(HOST, loop, NORMAL)
    assert notices(outcome) == [(ESCALATED, T0 + 30)]
    (write,) = outcome.writes
    assert (write.kind, write.replaces, write.incident.rule) == (UPDATE, "crashed", "restart_loop")
    (incident,) = book.open_incidents()
    assert (incident.key, incident.opened_at, incident.message, incident.app) == (
        (HOST, "restart_loop", "web"),
        T0,
        "keeps crashing",
        "shop",
    )
    # the loop again is the same incident, and resolving it resolves the one incident
    assert book.apply(HOST, loop, NORMAL).notices == []
    resolved = book.apply(HOST, change("restart_loop", None, T0 + 900, subject="web"), NORMAL)
    assert notices(resolved) == [(RESOLVED, T0 + 900)]
    assert book.open_incidents() == []


def test_a_replacing_change_without_the_old_incident_opens() -> None:
    book = IncidentBook()
    loop = dataclasses.replace(
        change("restart_loop", CRITICAL, T0, subject="web"), replaces="crashed"
    )
    outcome = book.apply(HOST, loop, NORMAL)
    assert notices(outcome) == [(OPENED, T0)]
    assert writes(outcome) == [(OPEN, T0)]


def test_a_replaced_incident_not_announced_yet_is_not_escalated() -> None:
    book = IncidentBook()
    book.apply(HOST, change("crashed", CRITICAL, T0, subject="web"), QUIET)
    loop = dataclasses.replace(
        change("restart_loop", CRITICAL, T0 + 5, subject="web"), replaces="crashed"
    )
    assert book.apply(HOST, loop, QUIET).notices == []
    announced = book.tick(T0 + 60, always(NORMAL))
    assert [(n.kind, n.incident.rule) for n in announced.notices] == [(OPENED, "restart_loop")]

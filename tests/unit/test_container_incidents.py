"""The container incident state machine: each rule with and without events, deduplication
between events and listings, the baseline, restore, and replays after a reconnect."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpshealth.collectors.docker_parsers import parse_event
from vpshealth.domain.container_incidents import (
    RECENT_FAILURE_SECONDS,
    STOPPED_BY_COOLIFY,
    IncidentTracker,
)
from vpshealth.domain.containers import (
    STANDALONE,
    Container,
    ContainerGroup,
    ContainerIncident,
    ContainerState,
    DockerEvent,
    GroupKind,
    Health,
    IncidentKind,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "docker"
T0 = 1_800_000_000
SHOP = ContainerGroup(GroupKind.COOLIFY, "shop", "production", "web")
BLOG = ContainerGroup(GroupKind.COMPOSE, "blog", service="db")

RUNNING = ContainerState.RUNNING
EXITED = ContainerState.EXITED
RESTARTING = ContainerState.RESTARTING

CRASHED = IncidentKind.CRASHED
LOOP = IncidentKind.RESTART_LOOP
OOM = IncidentKind.OOM_KILLED
UNHEALTHY = IncidentKind.UNHEALTHY
GONE = IncidentKind.DISAPPEARED
UNAVAILABLE = IncidentKind.DOCKER_UNAVAILABLE
DENIED = IncidentKind.DOCKER_PERMISSION_DENIED


def cid(name: str, generation: int = 0) -> str:
    return hashlib.sha256(f"{name}/{generation}".encode()).hexdigest()


def ctr(
    name: str = "web",
    state: ContainerState = RUNNING,
    *,
    generation: int = 0,
    group: ContainerGroup = STANDALONE,
    health: Health = Health.NONE,
    streak: int = 0,
    restarts: int = 0,
    exit_code: int | None = None,
    oom: bool = False,
    started: int | None = T0 - 3600,
    finished: int | None = None,
) -> Container:
    return Container(
        id=cid(name, generation),
        name=name,
        image="img",
        created=T0 - 7200,
        state=state,
        health=health,
        failing_streak=streak,
        restart_count=restarts,
        exit_code=exit_code,
        oom_killed=oom,
        started_at=started,
        finished_at=finished,
        group=group,
    )


def ev(
    action: str,
    at: int,
    name: str = "web",
    *,
    generation: int = 0,
    code: int | None = None,
    health: Health | None = None,
    signal: int | None = None,
) -> DockerEvent:
    return DockerEvent(at, action, cid(name, generation), name, code, health, signal)


def kinds(changes: list[ContainerIncident]) -> list[tuple[IncidentKind, bool, str]]:
    return [(c.kind, c.opened, c.container_name) for c in changes]


def open_kinds(tracker: IncidentTracker) -> set[tuple[IncidentKind, str]]:
    return {(i.kind, i.subject) for i in tracker.open_incidents()}


def feed(tracker: IncidentTracker, *events: DockerEvent) -> list[ContainerIncident]:
    changes: list[ContainerIncident] = []
    for event in events:
        changes += tracker.observe_event(event, None)
    return changes


def crash_cycle(at: int, name: str = "web", code: int = 3) -> list[DockerEvent]:
    """A crash and the restart policy's restart one second later."""
    return [ev("die", at, name, code=code), ev("start", at + 1, name)]


# --- baseline -----------------------------------------------------------------------------


def test_first_listing_is_a_baseline_of_old_failures() -> None:
    tracker = IncidentTracker()
    day_ago = T0 - 86_400
    changes = tracker.observe_listing(
        T0,
        [
            ctr("exited3", EXITED, exit_code=3, finished=day_ago),
            ctr("killed", EXITED, exit_code=137, finished=day_ago),
            ctr("oomed", EXITED, exit_code=137, oom=True, finished=day_ago),
            ctr("oom-child", RUNNING, oom=True),
            ctr("sick-but-stopped", EXITED, health=Health.UNHEALTHY, exit_code=0),
            ctr("just-over", EXITED, exit_code=3, finished=T0 - RECENT_FAILURE_SECONDS - 1),
            ctr("fine", RUNNING, health=Health.HEALTHY, restarts=50, finished=T0 - 5),
        ],
    )
    assert changes == []
    assert tracker.open_incidents() == []


def test_recent_failures_at_first_sight_open() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    listing = [
        ctr("oomer", EXITED, exit_code=137, oom=True, finished=T0 - 60, group=SHOP),
        ctr("exited3", EXITED, exit_code=3, finished=T0 - RECENT_FAILURE_SECONDS),
        ctr("looping", RESTARTING, restarts=50, exit_code=1, finished=T0 - 1, group=BLOG),
        ctr("flaky", RESTARTING, restarts=1, exit_code=2, finished=T0 - 3),
        ctr("clean-exit", EXITED, exit_code=0, finished=T0 - 5),
        ctr("stopped", EXITED, exit_code=143, finished=T0 - 5),
    ]
    changes = tracker.observe_listing(T0, listing)
    assert sorted(kinds(changes)) == sorted(
        [(OOM, True, "oomer"), (CRASHED, True, "exited3"), (LOOP, True, "looping"),
         (CRASHED, True, "flaky")]
    )  # fmt: skip
    by_name = {c.container_name: c for c in changes}
    assert by_name["oomer"].at == T0 - 60  # since the failure, not since we looked
    assert by_name["oomer"].app == "shop / production / web"
    assert by_name["oomer"].message == "oomer (shop / production / web) was killed: out of memory"
    assert by_name["looping"].message == (
        "looping (blog / db) is restarting again and again: 50 restarts so far, "
        "the last with exit code 1"
    )
    assert by_name["flaky"].message == "flaky crashed with exit code 2"
    # the next listing of the same state opens nothing more
    assert tracker.observe_listing(T0 + 5, listing) == []


def test_killed_while_restarting_at_first_sight_is_a_crash() -> None:
    tracker = IncidentTracker()
    changes = tracker.observe_listing(
        T0, [ctr("web", RESTARTING, restarts=1, exit_code=137, finished=T0 - 2)]
    )
    assert kinds(changes) == [(CRASHED, True, "web")]


def test_first_sight_oom_resolves_once_it_stays_up() -> None:
    tracker = IncidentTracker(stable_seconds=60)
    tracker.observe_listing(T0, [ctr("db", EXITED, exit_code=137, oom=True, finished=T0 - 30)])
    assert open_kinds(tracker) == {(OOM, "db")}
    assert tracker.observe_listing(T0 + 30, [ctr("db", oom=False, started=T0 + 20)]) == []
    changes = tracker.observe_listing(T0 + 90, [ctr("db", oom=False, started=T0 + 20)])
    assert kinds(changes) == [(OOM, False, "db")]


def test_remembered_listing_opens_nothing_at_first_sight() -> None:
    """The listing stored by the last run is replayed at start-up: that run judged it."""
    tracker = IncidentTracker()
    listing = [ctr("oomer", EXITED, exit_code=137, oom=True, finished=T0 - 60)]
    assert tracker.observe_listing(T0, listing, remembered=True) == []
    assert tracker.observe_listing(T0 + 10, listing) == []


def test_running_unhealthy_at_first_sight_opens() -> None:
    tracker = IncidentTracker()
    changes = tracker.observe_listing(
        T0, [ctr(health=Health.UNHEALTHY, streak=4, group=SHOP), ctr("db", group=BLOG)]
    )
    assert changes == [
        ContainerIncident(
            UNHEALTHY,
            True,
            T0,
            cid("web"),
            "web",
            "shop / production / web",
            "web (shop / production / web) is unhealthy (4 failed checks in a row)",
        )
    ]


def test_already_looping_container_opens_once_enough_restarts_are_seen() -> None:
    tracker = IncidentTracker(restart_loop_count=3, restart_loop_minutes=10)
    assert tracker.observe_listing(T0, [ctr("worker", restarts=50, finished=T0 - 9)]) == []
    assert tracker.observe_listing(T0 + 60, [ctr("worker", restarts=51, started=T0 + 55)]) == []
    assert tracker.observe_listing(T0 + 120, [ctr("worker", restarts=52, started=T0 + 115)]) == []
    changes = tracker.observe_listing(T0 + 180, [ctr("worker", restarts=53, started=T0 + 175)])
    assert kinds(changes) == [(LOOP, True, "worker")]
    assert changes[0].message == "worker restarted 3 times in 10 min"


# --- crashed ------------------------------------------------------------------------------


def test_crash_from_events() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(group=SHOP)])
    changes = tracker.observe_event(ev("die", T0 + 5, code=3), ctr(group=SHOP))
    assert changes == [
        ContainerIncident(
            CRASHED,
            True,
            T0 + 5,
            cid("web"),
            "web",
            "shop / production / web",
            "web (shop / production / web) crashed with exit code 3",
        )
    ]


def test_crash_of_a_container_first_seen_through_events() -> None:
    tracker = IncidentTracker()
    changes = feed(
        tracker, ev("create", T0, "job"), ev("start", T0, "job"), ev("die", T0 + 2, "job", code=2)
    )
    assert kinds(changes) == [(CRASHED, True, "job")]
    assert changes[0].app is None
    assert changes[0].message == "job crashed with exit code 2"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (137, "web was killed (SIGKILL, exit code 137) without a docker stop"),
        (143, "web was killed (SIGTERM, exit code 143) without a docker stop"),
        (1, "web crashed with exit code 1"),
        (-1, "web crashed with exit code -1"),
    ],
)
def test_crash_messages(code: int, message: str) -> None:
    tracker = IncidentTracker()
    (change,) = feed(tracker, ev("start", T0), ev("die", T0 + 1, code=code))
    assert change.message == message


def test_clean_exit_is_not_a_crash() -> None:
    tracker = IncidentTracker()
    assert feed(tracker, ev("start", T0), ev("die", T0 + 10, code=0)) == []


@pytest.mark.parametrize(
    "stop",
    [
        # docker stop of a process that ignores SIGTERM (recorded sequence)
        [ev("kill", T0 + 10, signal=15), ev("kill", T0 + 20, signal=9)],
        [ev("kill", T0 + 10, signal=9)],  # docker kill / docker rm -f
        [ev("kill", T0 + 10, signal=2)],  # a custom stop signal
        [ev("kill", T0 + 10, signal=None)],
        [ev("stop", T0 + 10)],
    ],
)
@pytest.mark.parametrize("code", [137, 143, 1, 0])
def test_stop_asked_of_docker_is_not_a_crash(stop: list[DockerEvent], code: int) -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    assert feed(tracker, *stop, ev("die", T0 + 20, code=code), ev("stop", T0 + 20)) == []
    # and the listing that follows does not think otherwise
    after = ctr(state=EXITED, exit_code=code, finished=T0 + 20)
    assert tracker.observe_listing(T0 + 30, [after]) == []


def test_reload_signal_is_not_a_stop() -> None:
    tracker = IncidentTracker()
    changes = feed(
        tracker, ev("start", T0), ev("kill", T0 + 5, signal=1), ev("die", T0 + 60, code=1)
    )
    assert kinds(changes) == [(CRASHED, True, "web")]


def test_an_old_stop_request_does_not_cover_a_later_crash() -> None:
    tracker = IncidentTracker()
    changes = feed(tracker, ev("kill", T0, signal=15), ev("die", T0 + 400, code=137))
    assert kinds(changes) == [(CRASHED, True, "web")]
    # and a stop request is forgotten when the container starts again
    tracker = IncidentTracker()
    changes = feed(
        tracker,
        ev("kill", T0, signal=15),
        ev("die", T0 + 1, code=143),
        ev("start", T0 + 5),
        ev("die", T0 + 10, code=143),
    )
    assert kinds(changes) == [(CRASHED, True, "web")]


def test_crash_from_listings_only() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(), ctr("db"), ctr("job"), ctr("cron", EXITED, exit_code=0)])
    changes = tracker.observe_listing(
        T0 + 60,
        [
            ctr(state=EXITED, exit_code=3, finished=T0 + 30),
            ctr("db", EXITED, exit_code=137, finished=T0 + 30),  # no stop seen: crashed
            ctr("job", EXITED, exit_code=0, finished=T0 + 30),  # clean exit
            ctr("cron", EXITED, exit_code=0),
        ],
    )
    assert kinds(changes) == [(CRASHED, True, "db"), (CRASHED, True, "web")]
    assert changes[0].message == "db was killed (SIGKILL, exit code 137) without a docker stop"
    assert changes[0].at == T0 + 60
    # the same state in the next listing changes nothing
    again = tracker.observe_listing(
        T0 + 120,
        [
            ctr(state=EXITED, exit_code=3, finished=T0 + 30),
            ctr("db", EXITED, exit_code=137, finished=T0 + 30),
            ctr("job", EXITED, exit_code=0, finished=T0 + 30),
            ctr("cron", EXITED, exit_code=0),
        ],
    )
    assert again == []


def test_container_that_ran_and_crashed_between_two_listings() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(state=EXITED, exit_code=0, finished=T0 - 100)])
    changes = tracker.observe_listing(
        T0 + 60, [ctr(state=EXITED, exit_code=1, started=T0 + 10, finished=T0 + 20)]
    )
    assert kinds(changes) == [(CRASHED, True, "web")]


def test_restarting_in_a_listing_is_a_crash() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    changes = tracker.observe_listing(
        T0 + 60, [ctr(state=RESTARTING, exit_code=3, restarts=1, finished=T0 + 59)]
    )
    assert kinds(changes) == [(CRASHED, True, "web")]


def test_crash_event_then_listing_is_one_incident() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    assert kinds(feed(tracker, ev("die", T0 + 10, code=3))) == [(CRASHED, True, "web")]
    listing = [ctr(state=EXITED, exit_code=3, finished=T0 + 10)]
    assert tracker.observe_listing(T0 + 60, listing) == []
    assert open_kinds(tracker) == {(CRASHED, "web")}


def test_crash_listing_then_late_event_is_one_incident() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    listing = [ctr(state=EXITED, exit_code=3, finished=T0 + 10)]
    assert kinds(tracker.observe_listing(T0 + 11, listing)) == [(CRASHED, True, "web")]
    assert feed(tracker, ev("die", T0 + 10, code=3)) == []


def test_crash_resolves_once_it_stays_up() -> None:
    tracker = IncidentTracker()  # stable_seconds=60
    tracker.observe_listing(T0, [ctr()])
    feed(tracker, ev("die", T0 + 10, code=3))
    assert feed(tracker, ev("start", T0 + 100)) == []  # running again, not yet stable
    assert tracker.observe_listing(T0 + 130, [ctr(started=T0 + 100)]) == []
    changes = tracker.observe_listing(T0 + 160, [ctr(started=T0 + 100)])
    assert kinds(changes) == [(CRASHED, False, "web")]
    assert changes[0].message == "web is running again"
    assert changes[0].at == T0 + 160
    assert tracker.open_incidents() == []


def test_crash_stays_open_while_it_keeps_failing() -> None:
    tracker = IncidentTracker(restart_loop_count=100)
    tracker.observe_listing(T0, [ctr()])
    changes = feed(tracker, *crash_cycle(T0 + 10), *crash_cycle(T0 + 20), *crash_cycle(T0 + 40))
    assert kinds(changes) == [(CRASHED, True, "web")]
    assert tracker.observe_listing(T0 + 60, [ctr(restarts=3, started=T0 + 41)]) == []
    assert kinds(tracker.observe_listing(T0 + 101, [ctr(restarts=3, started=T0 + 41)])) == [
        (CRASHED, False, "web")
    ]


def test_crash_resolves_when_removed() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(), ctr("db")])
    feed(tracker, ev("die", T0 + 1, code=3), ev("die", T0 + 1, "db", code=3))
    changes = feed(tracker, ev("destroy", T0 + 5))
    assert kinds(changes) == [(CRASHED, False, "web")]
    assert changes[0].message == "web was removed"
    # without a destroy event: gone from the listing
    changes = tracker.observe_listing(T0 + 60, [])
    assert kinds(changes) == [(CRASHED, False, "db")]
    assert changes[0].message == "db was removed"


def test_crash_with_a_restart_policy_collapses_into_the_restart_loop() -> None:
    tracker = IncidentTracker(restart_loop_count=3, restart_loop_minutes=10)
    tracker.observe_listing(T0, [ctr(group=SHOP)])
    first = feed(tracker, *crash_cycle(T0 + 10))
    assert kinds(first) == [(CRASHED, True, "web")]
    assert feed(tracker, *crash_cycle(T0 + 20)) == []
    third = feed(tracker, *crash_cycle(T0 + 40))
    # the crash becomes the restart loop: one incident that got worse, not a second one
    assert kinds(third) == [(LOOP, True, "web")]
    assert third[0].replaces is CRASHED
    assert third[0].message == (
        "web (shop / production / web) keeps crashing: restarted 3 times in 10 min"
    )
    # no incident per restart from now on, and no new crash incident
    assert feed(tracker, *crash_cycle(T0 + 80), *crash_cycle(T0 + 140)) == []
    assert open_kinds(tracker) == {(LOOP, "web")}


# --- restart loop -------------------------------------------------------------------------


def test_restart_loop_from_listings_only() -> None:
    tracker = IncidentTracker(restart_loop_count=3, restart_loop_minutes=10)
    tracker.observe_listing(T0, [ctr("worker", restarts=7)])
    assert tracker.observe_listing(T0 + 60, [ctr("worker", restarts=8, started=T0 + 50)]) == []
    assert tracker.observe_listing(T0 + 120, [ctr("worker", restarts=9, started=T0 + 110)]) == []
    changes = tracker.observe_listing(T0 + 180, [ctr("worker", restarts=11, started=T0 + 170)])
    assert kinds(changes) == [(LOOP, True, "worker")]
    assert changes[0].message == "worker restarted 4 times in 10 min"


def test_restart_seen_by_event_and_listing_counts_once() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    tracker.observe_listing(T0, [ctr(restarts=0)])
    feed(tracker, *crash_cycle(T0 + 10), *crash_cycle(T0 + 20))
    # the listing shows the same two restarts
    assert tracker.observe_listing(T0 + 60, [ctr(restarts=2, started=T0 + 21)]) == []
    assert open_kinds(tracker) == {(CRASHED, "web")}
    # one more, seen only by the listing (the events stream was down)
    changes = tracker.observe_listing(T0 + 120, [ctr(restarts=3, started=T0 + 100)])
    assert kinds(changes) == [(LOOP, True, "web")]
    assert changes[0].replaces is CRASHED


def test_restart_counted_by_a_listing_while_restarting_is_not_counted_again() -> None:
    """Docker counts the restart at the exit: a listing in between must not double count."""
    tracker = IncidentTracker(restart_loop_count=3)
    tracker.observe_listing(T0, [ctr()])
    feed(tracker, *crash_cycle(T0 + 10))  # restart 1 (event)
    feed(tracker, ev("die", T0 + 20, code=3))
    waiting = ctr(state=RESTARTING, restarts=2, exit_code=3, started=T0 + 11, finished=T0 + 20)
    assert tracker.observe_listing(T0 + 21, [waiting]) == []  # restart 2 (listing)
    assert feed(tracker, ev("start", T0 + 22)) == []  # the same restart 2
    assert tracker.observe_listing(T0 + 60, [ctr(restarts=2, started=T0 + 22)]) == []
    assert open_kinds(tracker) == {(CRASHED, "web")}


def test_start_event_already_in_the_listing_is_not_counted_again() -> None:
    tracker = IncidentTracker(restart_loop_count=2)
    tracker.observe_listing(T0, [ctr()])
    feed(tracker, ev("die", T0 + 10, code=3))
    # the listing already shows the restart (StartedAt a fraction before the event's second)
    assert kinds(tracker.observe_listing(T0 + 12, [ctr(restarts=1, started=T0 + 10)])) == []
    assert feed(tracker, ev("start", T0 + 11)) == []
    assert open_kinds(tracker) == {(CRASHED, "web")}


def test_restart_loop_window_slides_with_now() -> None:
    tracker = IncidentTracker(restart_loop_count=3, restart_loop_minutes=10)
    tracker.observe_listing(T0, [ctr(restarts=0)])
    assert tracker.observe_listing(T0 + 1, [ctr(restarts=1, started=T0 + 1)]) == []
    assert tracker.observe_listing(T0 + 400, [ctr(restarts=2, started=T0 + 400)]) == []
    # 801 s after the first: only two restarts within any 10 min
    assert tracker.observe_listing(T0 + 801, [ctr(restarts=3, started=T0 + 801)]) == []
    changes = tracker.observe_listing(T0 + 1000, [ctr(restarts=4, started=T0 + 1000)])
    assert kinds(changes) == [(LOOP, True, "web")]
    assert changes[0].message == "web restarted 3 times in 10 min"


def test_restart_loop_window_edge_is_inclusive() -> None:
    tracker = IncidentTracker(restart_loop_count=2, restart_loop_minutes=1)
    tracker.observe_listing(T0, [ctr()])
    feed(tracker, ev("die", T0, code=0), ev("start", T0 + 1))
    changes = feed(tracker, ev("die", T0 + 60, code=0), ev("start", T0 + 61))
    assert kinds(changes) == [(LOOP, True, "web")]
    assert changes[0].message == "web restarted 2 times in 1 min"


def test_restarts_of_exit_zero_count_too() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    changes = feed(tracker, *(e for t in (0, 10, 20) for e in crash_cycle(T0 + t, code=0)))
    assert kinds(changes) == [(LOOP, True, "web")]


def test_docker_restart_by_a_person_is_not_a_restart_loop() -> None:
    """Recorded sequence of ``docker restart``: kill, die, stop, start, restart."""
    tracker = IncidentTracker(restart_loop_count=2)
    tracker.observe_listing(T0, [ctr(restarts=5)])
    for t in (10, 20, 30):
        changes = feed(
            tracker,
            ev("kill", T0 + t, signal=15),
            ev("die", T0 + t, code=143),
            ev("stop", T0 + t),
            ev("start", T0 + t + 1),
            ev("restart", T0 + t + 1),
        )
        assert changes == []
    # docker restart reset RestartCount to 0
    assert tracker.observe_listing(T0 + 60, [ctr(restarts=0, started=T0 + 31)]) == []


def test_restarts_after_a_reset_are_counted_once() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    tracker.observe_listing(T0, [ctr(state=EXITED, restarts=5, exit_code=1, finished=T0 - 86_400)])
    changes = feed(
        tracker,
        ev("start", T0 + 10),  # docker start: RestartCount back to 0
        *crash_cycle(T0 + 20),
        *crash_cycle(T0 + 30),
    )
    assert kinds(changes) == [(CRASHED, True, "web")]
    # RestartCount 2 < 5 seen before: a reset, and both restarts were already counted
    assert tracker.observe_listing(T0 + 60, [ctr(restarts=2, started=T0 + 31)]) == []
    assert kinds(tracker.observe_listing(T0 + 70, [ctr(restarts=3, started=T0 + 65)])) == [
        (LOOP, True, "web"),
    ]


def test_restarts_over_a_long_gap_are_not_a_burst() -> None:
    tracker = IncidentTracker(restart_loop_count=3, restart_loop_minutes=10)
    tracker.observe_listing(T0, [ctr(restarts=0)])
    day = 86_400
    assert tracker.observe_listing(T0 + day, [ctr(restarts=5, started=T0 + day - 5)]) == []


def test_restart_loop_resolves_after_a_quiet_window() -> None:
    tracker = IncidentTracker(restart_loop_count=3, restart_loop_minutes=10)
    tracker.observe_listing(T0, [ctr()])
    feed(tracker, *crash_cycle(T0 + 10), *crash_cycle(T0 + 20), *crash_cycle(T0 + 30))
    assert open_kinds(tracker) == {(LOOP, "web")}
    up = ctr(restarts=3, started=T0 + 31)
    assert tracker.observe_listing(T0 + 300, [up]) == []
    assert tracker.observe_listing(T0 + 630, [up]) == []  # 599 s after the last restart
    changes = tracker.observe_listing(T0 + 632, [up])
    assert kinds(changes) == [(LOOP, False, "web")]
    assert changes[0].message == "web has stayed up for 10 min"


def test_restart_loop_stays_open_when_the_policy_gives_up() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    tracker.observe_listing(T0, [ctr()])
    feed(tracker, *crash_cycle(T0 + 10), *crash_cycle(T0 + 20), *crash_cycle(T0 + 30))
    feed(tracker, ev("die", T0 + 40, code=5))
    down = ctr(state=EXITED, restarts=3, exit_code=5, started=T0 + 31, finished=T0 + 40)
    assert tracker.observe_listing(T0 + 3600, [down]) == []
    assert open_kinds(tracker) == {(LOOP, "web")}


def test_restart_loop_resolves_on_removal() -> None:
    tracker = IncidentTracker(restart_loop_count=2)
    feed(tracker, *crash_cycle(T0), *crash_cycle(T0 + 5))
    changes = feed(tracker, ev("kill", T0 + 8, signal=9), ev("die", T0 + 8, code=137))
    assert changes == []
    assert kinds(feed(tracker, ev("destroy", T0 + 8))) == [(LOOP, False, "web")]


# --- OOM ----------------------------------------------------------------------------------


def test_oom_event_then_die_is_one_oom_incident_and_no_crash() -> None:
    """The recorded sequence: oom, then die with 137."""
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr("db", group=BLOG)])
    changes = feed(tracker, ev("oom", T0 + 5, "db"), ev("die", T0 + 5, "db", code=137))
    assert changes == [
        ContainerIncident(
            OOM,
            True,
            T0 + 5,
            cid("db"),
            "db",
            "blog / db",
            "db (blog / db) was killed: out of memory",
        )
    ]
    listing = [ctr("db", EXITED, group=BLOG, exit_code=137, oom=True, finished=T0 + 5)]
    assert tracker.observe_listing(T0 + 60, listing) == []
    assert tracker.observe_listing(T0 + 120, listing) == []


def test_oom_from_listings_only() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr("db")])
    listing = [ctr("db", EXITED, exit_code=137, oom=True, finished=T0 + 30)]
    assert kinds(tracker.observe_listing(T0 + 60, listing)) == [(OOM, True, "db")]
    assert tracker.observe_listing(T0 + 120, listing) == []


def test_oom_killed_process_in_a_running_container() -> None:
    """The kernel killed one process; the container keeps running."""
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr("db")])
    assert kinds(feed(tracker, ev("oom", T0 + 100, "db"))) == [(OOM, True, "db")]
    running = [ctr("db", oom=True)]
    assert tracker.observe_listing(T0 + 120, running) == []
    assert kinds(tracker.observe_listing(T0 + 160, running)) == [(OOM, False, "db")]
    # without events: the flag appears on a container we watch
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr("db")])
    assert kinds(tracker.observe_listing(T0 + 60, running)) == [(OOM, True, "db")]


def test_oom_resolves_when_running_again_and_a_new_kill_is_a_new_incident() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr("db")])
    feed(tracker, ev("oom", T0 + 5, "db"), ev("die", T0 + 5, "db", code=137))
    feed(tracker, ev("start", T0 + 6, "db"))
    assert tracker.observe_listing(T0 + 30, [ctr("db", restarts=1, started=T0 + 6)]) == []
    changes = tracker.observe_listing(T0 + 70, [ctr("db", restarts=1, started=T0 + 6)])
    assert kinds(changes) == [(OOM, False, "db")]
    assert changes[0].message == "db is running again"
    again = feed(tracker, ev("oom", T0 + 500, "db"), ev("die", T0 + 500, "db", code=137))
    assert kinds(again) == [(OOM, True, "db")]


def test_oom_killed_flag_on_a_stopped_container_seen_at_first_sight() -> None:
    tracker = IncidentTracker()
    listing = [ctr("db", EXITED, exit_code=137, oom=True, finished=T0 - 86_400)]
    assert tracker.observe_listing(T0, listing) == []
    assert tracker.observe_listing(T0 + 60, listing) == []


# --- unhealthy ----------------------------------------------------------------------------


def test_unhealthy_from_events() -> None:
    tracker = IncidentTracker()
    changes = feed(tracker, ev("health_status", T0, health=Health.UNHEALTHY))
    assert kinds(changes) == [(UNHEALTHY, True, "web")]
    assert changes[0].message == "web is unhealthy"
    assert feed(tracker, ev("health_status", T0 + 1, health=Health.UNHEALTHY)) == []
    changes = feed(tracker, ev("health_status", T0 + 30, health=Health.HEALTHY))
    assert kinds(changes) == [(UNHEALTHY, False, "web")]
    assert changes[0].message == "web is healthy again"


def test_unhealthy_event_and_listing_are_one_incident() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(health=Health.HEALTHY)])
    assert kinds(feed(tracker, ev("health_status", T0 + 5, health=Health.UNHEALTHY))) == [
        (UNHEALTHY, True, "web")
    ]
    assert tracker.observe_listing(T0 + 60, [ctr(health=Health.UNHEALTHY, streak=9)]) == []
    changes = tracker.observe_listing(T0 + 120, [ctr(health=Health.HEALTHY)])
    assert kinds(changes) == [(UNHEALTHY, False, "web")]


def test_stopped_container_keeps_its_last_health_without_alerting() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    stopped = ctr(state=EXITED, health=Health.UNHEALTHY, exit_code=0, finished=T0 + 5)
    assert tracker.observe_listing(T0 + 60, [stopped]) == []
    assert tracker.observe_listing(T0 + 120, [stopped]) == []


def test_unhealthy_then_stopped_stays_open_until_healthy_or_removed() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(health=Health.UNHEALTHY)])
    stopped = ctr(state=EXITED, health=Health.UNHEALTHY, exit_code=0, finished=T0 + 5)
    feed(tracker, ev("kill", T0 + 5, signal=15), ev("die", T0 + 5, code=0))
    assert tracker.observe_listing(T0 + 60, [stopped]) == []
    assert open_kinds(tracker) == {(UNHEALTHY, "web")}
    changes = feed(tracker, ev("destroy", T0 + 70))
    assert kinds(changes) == [(UNHEALTHY, False, "web")]
    assert changes[0].message == "web was removed"


def test_healthy_after_restart_clears_unhealthy() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(health=Health.UNHEALTHY)])
    starting = ctr(health=Health.STARTING, started=T0 + 30)
    assert tracker.observe_listing(T0 + 31, [starting]) == []
    assert kinds(tracker.observe_listing(T0 + 60, [replace(starting, health=Health.HEALTHY)])) == [
        (UNHEALTHY, False, "web")
    ]


# --- disappeared --------------------------------------------------------------------------


def test_running_container_vanishing_without_destroy_event() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(group=SHOP), ctr("old", EXITED, exit_code=0)])
    changes = tracker.observe_listing(T0 + 60, [])
    assert changes == [
        ContainerIncident(
            GONE,
            True,
            T0 + 60,
            cid("web"),
            "web",
            "shop / production / web",
            "web (shop / production / web) disappeared: it was running and is no longer listed",
        )
    ]
    assert tracker.observe_listing(T0 + 120, []) == []
    # it comes back (recreated with the same name)
    changes = tracker.observe_listing(T0 + 180, [ctr(generation=1, group=SHOP, started=T0 + 170)])
    assert kinds(changes) == [(GONE, False, "web")]
    assert changes[0].message == "web (shop / production / web) is back"


def test_removal_we_saw_is_not_a_disappearance() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    feed(tracker, ev("kill", T0 + 5, signal=9), ev("die", T0 + 5, code=137), ev("destroy", T0 + 5))
    assert tracker.observe_listing(T0 + 60, []) == []


def test_a_listing_taken_before_the_removal_does_not_bring_it_back() -> None:
    # The destroy event is handled while a listing that still shows the container is on its
    # way; the next listing no longer shows it: that is the removal we saw, not a disappearance.
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    feed(tracker, ev("kill", T0 + 5, signal=15), ev("die", T0 + 5, code=0), ev("destroy", T0 + 5))
    assert tracker.observe_listing(T0 + 6, [ctr()]) == []
    assert tracker.observe_listing(T0 + 16, []) == []
    assert tracker.open_incidents() == []


def test_late_destroy_event_resolves_the_disappearance() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    assert kinds(tracker.observe_listing(T0 + 60, [])) == [(GONE, True, "web")]
    changes = feed(tracker, ev("destroy", T0 + 30))
    assert kinds(changes) == [(GONE, False, "web")]


def test_redeploy_of_the_same_app_is_not_a_disappearance() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr("web-1111", group=SHOP), ctr("solo")])
    changes = tracker.observe_listing(T0 + 60, [ctr("web-2222", group=SHOP, started=T0 + 50)])
    assert kinds(changes) == [(GONE, True, "solo")]


def test_disappeared_resolves_when_its_app_is_back_under_another_name() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr("web-1111", group=SHOP)])
    assert kinds(tracker.observe_listing(T0 + 60, [])) == [(GONE, True, "web-1111")]
    changes = tracker.observe_listing(T0 + 120, [ctr("web-2222", group=SHOP, started=T0 + 100)])
    assert kinds(changes) == [(GONE, False, "web-1111")]


def test_vanished_container_resolves_its_other_incidents() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(health=Health.UNHEALTHY)])
    changes = tracker.observe_listing(T0 + 60, [])
    assert kinds(changes) == [(UNHEALTHY, False, "web"), (GONE, True, "web")]


# --- Docker itself ------------------------------------------------------------------------


def test_docker_unreachable_only_once_docker_was_seen() -> None:
    tracker = IncidentTracker()
    assert tracker.docker_unreachable(T0, UNAVAILABLE) == []
    tracker.observe_listing(T0 + 10, [])
    changes = tracker.docker_unreachable(T0 + 20, UNAVAILABLE)
    assert changes == [
        ContainerIncident(UNAVAILABLE, True, T0 + 20, "", "", None, changes[0].message)
    ]
    assert changes[0].message == "Docker is not answering"
    assert changes[0].subject == "docker"
    assert tracker.docker_unreachable(T0 + 30, UNAVAILABLE) == []


def test_docker_unreachable_kind_switches_and_resolves() -> None:
    tracker = IncidentTracker()
    assert tracker.docker_reachable(T0) == []
    tracker.docker_unreachable(T0 + 10, UNAVAILABLE)
    changes = tracker.docker_unreachable(T0 + 20, DENIED)
    assert kinds(changes) == [(UNAVAILABLE, False, ""), (DENIED, True, "")]
    assert "permission denied" in changes[1].message
    changes = tracker.docker_reachable(T0 + 30)
    assert kinds(changes) == [(DENIED, False, "")]
    assert changes[0].message == "Docker answers again"
    assert tracker.docker_reachable(T0 + 40) == []


def test_docker_unreachable_rejects_container_kinds() -> None:
    with pytest.raises(ValueError, match="not a Docker daemon incident kind"):
        IncidentTracker().docker_unreachable(T0, CRASHED)


def test_listing_does_not_resolve_docker_incidents_by_itself() -> None:
    tracker = IncidentTracker()
    tracker.restore([ContainerIncident(UNAVAILABLE, True, T0, "", "", None, "down")])
    assert tracker.observe_listing(T0 + 5, [ctr()]) == []
    assert kinds(tracker.docker_reachable(T0 + 5)) == [(UNAVAILABLE, False, "")]


def test_container_incidents_survive_an_outage() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(health=Health.UNHEALTHY)])
    tracker.docker_unreachable(T0 + 60, UNAVAILABLE)
    tracker.docker_reachable(T0 + 120)
    assert tracker.observe_listing(T0 + 120, [ctr(health=Health.UNHEALTHY)]) == []
    assert open_kinds(tracker) == {(UNHEALTHY, "web")}


# --- restore ------------------------------------------------------------------------------


def incident(kind: IncidentKind, name: str = "web", at: int = T0 - 100) -> ContainerIncident:
    return ContainerIncident(kind, True, at, cid(name), name, None, f"{name}: {kind}")


def test_restore_does_not_reopen() -> None:
    tracker = IncidentTracker()
    restored = [incident(UNHEALTHY), incident(CRASHED, "db"), incident(DENIED, "")]
    tracker.restore(restored)
    assert tracker.open_incidents() == sorted(
        restored, key=lambda i: (i.at, i.kind.value, i.subject)
    )
    tracker.observe_listing(T0, [ctr(health=Health.UNHEALTHY), ctr("db", EXITED, exit_code=3)])
    assert feed(tracker, ev("health_status", T0 + 1, health=Health.UNHEALTHY)) == []
    assert feed(tracker, ev("start", T0 + 2, "db"), ev("die", T0 + 3, "db", code=3)) == []
    assert tracker.docker_unreachable(T0 + 4, DENIED) == []
    assert open_kinds(tracker) == {(UNHEALTHY, "web"), (CRASHED, "db"), (DENIED, "docker")}


def test_restore_ignores_resolutions_and_duplicates() -> None:
    tracker = IncidentTracker()
    closed = replace(incident(CRASHED), opened=False)
    tracker.restore([closed, incident(CRASHED), replace(incident(CRASHED), at=T0)])
    assert [i.at for i in tracker.open_incidents()] == [T0 - 100]


def test_restored_incidents_resolve_from_the_first_listing() -> None:
    tracker = IncidentTracker(restart_loop_count=3, restart_loop_minutes=10)
    tracker.restore(
        [
            incident(CRASHED, "web"),
            incident(LOOP, "worker"),
            incident(OOM, "db"),
            incident(UNHEALTHY, "api"),
            incident(CRASHED, "gone"),
            incident(GONE, "lost"),
        ]
    )
    changes = tracker.observe_listing(
        T0,
        [
            ctr("web", started=T0 - 3600),
            ctr("worker", started=T0 - 3600, restarts=40),
            ctr("db", started=T0 - 30),  # running, but not for a minute yet
            ctr("api", health=Health.HEALTHY),
        ],
    )
    assert sorted(kinds(changes)) == sorted(
        [
            (CRASHED, False, "gone"),
            (CRASHED, False, "web"),
            (LOOP, False, "worker"),
            (UNHEALTHY, False, "api"),
        ]
    )
    assert open_kinds(tracker) == {(OOM, "db"), (GONE, "lost")}
    listing = [
        ctr("web", started=T0 - 3600),
        ctr("worker", started=T0 - 3600, restarts=40),
        ctr("db", started=T0 - 30),
        ctr("api", health=Health.HEALTHY),
    ]
    assert kinds(tracker.observe_listing(T0 + 30, listing)) == [(OOM, False, "db")]
    assert kinds(tracker.observe_listing(T0 + 60, [*listing, ctr("lost", generation=3)])) == [
        (GONE, False, "lost")
    ]


def test_restored_incident_of_a_replaced_container() -> None:
    tracker = IncidentTracker()
    tracker.restore([incident(UNHEALTHY)])
    changes = tracker.observe_listing(T0, [ctr(generation=1, health=Health.UNHEALTHY)])
    assert kinds(changes) == [(UNHEALTHY, False, "web"), (UNHEALTHY, True, "web")]
    assert changes[0].message == "web was replaced by a new container"
    assert changes[1].container_id == cid("web", 1)


# --- replays and reconnects ---------------------------------------------------------------


def test_replayed_events_change_nothing() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    tracker.observe_listing(T0, [ctr(), ctr("db")])
    stream = [
        *crash_cycle(T0 + 10),
        *crash_cycle(T0 + 20),
        ev("oom", T0 + 25, "db"),
        ev("die", T0 + 25, "db", code=137),
        ev("health_status", T0 + 26, health=Health.UNHEALTHY),
    ]
    first = feed(tracker, *stream)
    assert sorted(kinds(first)) == [
        (CRASHED, True, "web"),
        (OOM, True, "db"),
        (UNHEALTHY, True, "web"),
    ]
    # the stream drops and reconnects with since=T0: everything is replayed
    assert feed(tracker, *stream) == []
    assert (
        tracker.observe_listing(
            T0 + 60,
            [
                ctr(restarts=2, started=T0 + 21, health=Health.UNHEALTHY),
                ctr("db", EXITED, exit_code=137, oom=True, finished=T0 + 25),
            ],
        )
        == []
    )
    assert feed(tracker, *stream) == []
    assert len(tracker.open_incidents()) == 3


def test_replay_after_resolution_does_not_reopen() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr()])
    stream = [ev("die", T0 + 10, code=3), ev("start", T0 + 20)]
    feed(tracker, *stream)
    assert kinds(tracker.observe_listing(T0 + 200, [ctr(restarts=1, started=T0 + 20)])) == [
        (CRASHED, False, "web")
    ]
    assert feed(tracker, *stream) == []
    # even when the exact repeats have been forgotten (a new process, or a long time)
    fresh = IncidentTracker()
    fresh.observe_listing(T0 + 300, [ctr(restarts=1, started=T0 + 20)])
    assert feed(fresh, *stream) == []


def test_service_restart_with_restore_and_replay() -> None:
    before = IncidentTracker()
    before.observe_listing(T0, [ctr(), ctr("db")])
    stream = [
        ev("die", T0 + 10, code=3),
        ev("health_status", T0 + 12, "db", health=Health.UNHEALTHY),
    ]
    feed(before, *stream)
    saved = before.open_incidents()
    after = IncidentTracker()
    after.restore(saved)
    listing = [
        ctr(state=EXITED, exit_code=3, finished=T0 + 10),
        ctr("db", health=Health.UNHEALTHY),
    ]
    assert after.observe_listing(T0 + 100, listing) == []
    assert feed(after, *stream) == []
    assert after.open_incidents() == saved


def test_events_for_containers_removed_meanwhile_are_ignored() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(state=EXITED, exit_code=0, finished=T0 - 10)])
    tracker.observe_listing(T0 + 60, [])
    assert feed(tracker, ev("start", T0 + 30), ev("die", T0 + 40, code=1)) == []


def test_exact_duplicate_event_is_ignored() -> None:
    tracker = IncidentTracker()
    die = ev("die", T0, code=3)
    assert len(feed(tracker, die)) == 1
    tracker.observe_event(ev("start", T0 + 100), None)
    tracker.observe_listing(T0 + 200, [ctr(started=T0 + 100)])
    assert tracker.observe_event(die, None) == []


# --- misc ---------------------------------------------------------------------------------


def test_rename_moves_nothing_and_resolves_the_old_name() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(health=Health.UNHEALTHY)])
    renamed = replace(ctr(health=Health.UNHEALTHY), name="web-old")
    changes = tracker.observe_listing(T0 + 60, [renamed])
    assert kinds(changes) == [(UNHEALTHY, False, "web"), (UNHEALTHY, True, "web-old")]
    assert changes[0].message == "web was renamed to web-old"


def test_app_from_the_container_passed_with_an_event() -> None:
    tracker = IncidentTracker()
    (change,) = tracker.observe_event(ev("oom", T0, "db"), ctr("db", group=BLOG))
    assert change.app == "blog / db"
    assert change.message == "db (blog / db) was killed: out of memory"


def test_app_from_the_labels_an_event_carries_before_any_listing() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    shop = replace(ev("create", T0, "oomer"), group=SHOP)
    changes = feed(
        tracker,
        shop,
        replace(ev("start", T0, "oomer"), group=SHOP),
        replace(ev("oom", T0 + 1, "oomer"), group=SHOP),
    )
    assert kinds(changes) == [(OOM, True, "oomer")]
    assert changes[0].app == "shop / production / web"
    assert changes[0].message == "oomer (shop / production / web) was killed: out of memory"


def test_a_listing_names_the_app_over_an_event_without_labels() -> None:
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr("db", group=BLOG)])
    (change,) = feed(tracker, ev("oom", T0 + 5, "db"))
    assert change.app == "blog / db"


def test_recorded_event_with_coolify_labels_names_the_app() -> None:
    (line,) = [
        x
        for x in (FIXTURES / "events_lifecycle.jsonl").read_bytes().splitlines()
        if b'"die","id":"e095' in x
    ]
    event = parse_event(line)
    assert event is not None
    (change,) = IncidentTracker().observe_event(replace(event, exit_code=3), None)
    assert change.app == "shop / production / web"
    assert change.message == "web-abc (shop / production / web) crashed with exit code 3"


def test_oom_flag_of_an_inspect_made_after_the_exit() -> None:
    tracker = IncidentTracker()
    fresh = ctr("db", EXITED, exit_code=137, oom=True, finished=T0 + 5)
    assert kinds(tracker.observe_event(ev("die", T0 + 5, "db", code=137), fresh)) == [
        (OOM, True, "db")
    ]


def test_oom_flag_of_an_older_inspect_is_not_this_exit() -> None:
    """The poller passes the last listing's inspect, from before the event."""
    tracker = IncidentTracker()
    old = ctr("db", EXITED, exit_code=137, oom=True, finished=T0 - 500)
    tracker.observe_listing(T0 - 400, [old])
    tracker.observe_event(ev("start", T0, "db"), old)
    changes = tracker.observe_event(ev("die", T0 + 5, "db", code=1), old)
    assert kinds(changes) == [(CRASHED, True, "db")]


def test_messages_are_one_line() -> None:
    tracker = IncidentTracker()
    odd = ContainerGroup(GroupKind.COMPOSE, "multi\nline", service="x\ty")
    (change,) = tracker.observe_listing(T0, [ctr(group=odd, health=Health.UNHEALTHY)])
    assert change.message == "web (multi line / x y) is unhealthy"


@pytest.mark.parametrize(
    "kwargs",
    [{"restart_loop_count": 0}, {"restart_loop_minutes": 0}, {"stable_seconds": -1}],
)
def test_invalid_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        IncidentTracker(**kwargs)  # type: ignore[arg-type]


# --- the recorded event streams -----------------------------------------------------------


def recorded(name: str) -> list[DockerEvent]:
    lines = (FIXTURES / name).read_bytes().splitlines()
    return [e for e in (parse_event(line) for line in lines) if e is not None]


def test_recorded_lifecycle_stream() -> None:
    """Everything the recording did, through the tracker: oom, exit 3, on-failure restarts,
    docker stop/kill/restart/rm -f, unhealthy and back, the crash-looping ``loop``."""
    tracker = IncidentTracker(restart_loop_count=3, restart_loop_minutes=10)
    changes = feed(tracker, *recorded("events_lifecycle.jsonl"))
    assert [(c.at, c.kind, c.opened, c.container_name) for c in changes] == [
        (1795938737, OOM, True, "oom"),
        (1795938739, CRASHED, True, "vh-exit3"),
        (1795938741, UNHEALTHY, True, "vh-unhealthy"),
        (1795938748, CRASHED, True, "vh-onfail"),
        (1795938761, CRASHED, True, "loop"),
        (1795938943, LOOP, True, "loop"),  # the crash becomes it: third restart 60 s apart
        (1795938998, LOOP, True, "vh-onfail"),  # restarts 748, 750 and, after start, 998
        (1795939014, UNHEALTHY, False, "vh-unhealthy"),  # docker exec touch /tmp/ok
        (1795939025, CRASHED, False, "vh-exit3"),  # docker rm -f of everything
        (1795939025, OOM, False, "oom"),
        (1795939025, LOOP, False, "vh-onfail"),
    ]
    assert changes[1].message == "vh-exit3 crashed with exit code 3"
    assert changes[5].message == "loop keeps crashing: restarted 3 times in 10 min"
    assert [c.replaces for c in changes[5:7]] == [CRASHED, CRASHED]
    assert open_kinds(tracker) == {(LOOP, "loop")}
    # replaying the stream (a reconnect with an old `since`) changes nothing
    assert feed(tracker, *recorded("events_lifecycle.jsonl")) == []


def test_recorded_unhealthy_then_stopped_and_removed() -> None:
    tracker = IncidentTracker()
    events = [e for e in recorded("events_unhealthy_stop.jsonl") if e.name != "loop"]
    changes = feed(tracker, *events)
    assert [(c.at, c.kind, c.opened) for c in changes] == [
        (1795939041, UNHEALTHY, True),
        (1795939046, UNHEALTHY, False),  # destroy; the docker stop before it was no crash
    ]
    assert changes[1].message == "vh-unhealthy was removed"


# --- invariants under arbitrary input -----------------------------------------------------

NAMES = ["web", "db"]
actions = st.sampled_from(
    ["create", "start", "restart", "die", "oom", "kill", "stop", "destroy", "pause", "unpause"]
    + ["health_status"] * 2
)
events = st.builds(
    lambda action, offset, name, gen, code, health, signal: DockerEvent(
        T0 + offset,
        action,
        cid(name, gen),
        name,
        code if action == "die" else None,
        health if action == "health_status" else None,
        signal if action == "kill" else None,
    ),
    actions,
    st.integers(0, 3000),
    st.sampled_from(NAMES),
    st.integers(0, 1),
    st.sampled_from([0, 1, 3, 137, 143]),
    st.sampled_from([Health.HEALTHY, Health.UNHEALTHY, Health.STARTING]),
    st.sampled_from([None, 1, 9, 15]),
)
containers = st.builds(
    lambda name, gen, state, health, restarts, code, oom, started, finished, coolify: ctr(
        name,
        state,
        generation=gen,
        group=SHOP if coolify else STANDALONE,
        health=health,
        restarts=restarts,
        exit_code=code,
        oom=oom,
        started=T0 + started,
        finished=None if finished is None else T0 + finished,
    ),
    st.sampled_from(NAMES),
    st.integers(0, 1),
    st.sampled_from(list(ContainerState)),
    st.sampled_from(list(Health)),
    st.integers(0, 20),
    st.sampled_from([None, 0, 1, 137]),
    st.booleans(),
    st.integers(0, 3000),
    st.one_of(st.none(), st.integers(0, 3000)),
    st.booleans(),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("event"), events),
        st.tuples(
            st.just("listing"),
            st.tuples(st.integers(0, 3000), st.lists(containers, max_size=3)),
        ),
        st.tuples(st.just("down"), st.sampled_from([UNAVAILABLE, DENIED])),
        st.tuples(st.just("up"), st.none()),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(steps=steps)
def test_open_and_resolve_alternate_per_subject(steps: list[tuple[str, object]]) -> None:
    tracker = IncidentTracker(restart_loop_count=2, restart_loop_minutes=5)
    is_open: dict[tuple[IncidentKind, str], bool] = {}
    for what, payload in steps:
        if what == "event":
            assert isinstance(payload, DockerEvent)
            changes = tracker.observe_event(payload, None)
        elif what == "listing":
            assert isinstance(payload, tuple)
            offset, listed = payload
            unique = {c.name: c for c in listed}  # Docker names are unique
            changes = tracker.observe_listing(T0 + offset, list(unique.values()))
        elif what == "down":
            assert isinstance(payload, IncidentKind)
            changes = tracker.docker_unreachable(T0, payload)
        else:
            changes = tracker.docker_reachable(T0)
        for change in changes:
            key = (change.kind, change.subject)
            held = change.opened and STOPPED_BY_COOLIFY in change.message  # an update
            assert held or is_open.get(key, False) is not change.opened, change
            if change.replaces is not None:
                assert is_open.pop((change.replaces, change.subject)), change
            is_open[key] = change.opened
            assert "\n" not in change.message
        assert {k for k, v in is_open.items() if v} == open_kinds(tracker)
        assert sum(1 for k in open_kinds(tracker) if k[0] in (UNAVAILABLE, DENIED)) <= 1


def test_a_listing_older_than_a_health_event_does_not_undo_it() -> None:
    """A poll's listing can be taken just before a health event and be read just after it:
    the event is the newer fact (this raced in the integration test under load)."""
    tracker = IncidentTracker()
    tracker.observe_listing(T0, [ctr(health=Health.HEALTHY)])
    assert kinds(feed(tracker, ev("health_status", T0 + 10, health=Health.UNHEALTHY))) == [
        (UNHEALTHY, True, "web")
    ]
    assert tracker.observe_listing(T0 + 10, [ctr(health=Health.HEALTHY)]) == []
    assert open_kinds(tracker) == {(UNHEALTHY, "web")}
    resolved = tracker.observe_listing(T0 + 15, [ctr(health=Health.HEALTHY)])
    assert kinds(resolved) == [(UNHEALTHY, False, "web")]


# --- Coolify's restart limit --------------------------------------------------------------

UUID = "vgsco4o8cks0wkw4gg84kc4k"
APP = ContainerGroup(GroupKind.COOLIFY, "shop", "production", "web", uuid=UUID)
OLD = f"{UUID}-101514123456"  # {resource uuid}-{HHMMSS + microseconds}, new every deploy
NEW = f"{UUID}-113002654321"


def _looping(
    tracker: IncidentTracker,
    name: str = OLD,
    group: ContainerGroup = APP,
    others: tuple[Container, ...] = (),
) -> None:
    tracker.observe_listing(T0, [ctr(name, group=group, restarts=0), *others])
    for at in (T0 + 10, T0 + 20, T0 + 40):
        feed(tracker, *crash_cycle(at, name))
    assert open_kinds(tracker) == {(LOOP, name)}


def _coolify_stops(name: str, at: int) -> list[DockerEvent]:
    """StopApplication: ``docker stop`` then ``docker rm -f`` (kill 15, die, stop, destroy)."""
    return [
        ev("kill", at, name, signal=15),
        ev("die", at, name, code=143),
        ev("stop", at, name),
        ev("destroy", at + 1, name),
    ]


def test_a_restart_loop_ended_by_coolifys_removal_stays_open() -> None:
    tracker = IncidentTracker(restart_loop_count=3, stable_seconds=60)
    _looping(tracker)
    changes = feed(tracker, *_coolify_stops(OLD, T0 + 100))
    assert kinds(changes) == [(LOOP, True, OLD)]  # an update: same incident, new message
    assert changes[0].message == (
        f"{OLD} (shop / production / web) was stopped by Coolify after 3 restarts; "
        "no container of the app runs"
    )
    assert open_kinds(tracker) == {(LOOP, OLD)}
    # the listing without it keeps it open too
    assert tracker.observe_listing(T0 + 120, []) == []
    # a redeploy: a new container of the same app, under a new name; stable after 60 s
    assert tracker.observe_listing(T0 + 200, [ctr(NEW, group=APP, started=T0 + 180)]) == []
    resolved = tracker.observe_listing(T0 + 260, [ctr(NEW, group=APP, started=T0 + 180)])
    assert kinds(resolved) == [(LOOP, False, OLD)]
    assert resolved[0].message == f"shop / production / web runs again: {NEW} has been up for 80 s"
    assert tracker.open_incidents() == []


def test_a_new_container_that_crashes_does_not_end_the_held_loop() -> None:
    tracker = IncidentTracker(restart_loop_count=3, stable_seconds=60)
    _looping(tracker)
    feed(tracker, *_coolify_stops(OLD, T0 + 100))
    tracker.observe_listing(T0 + 200, [ctr(NEW, group=APP, started=T0 + 190)])
    feed(tracker, ev("die", T0 + 205, NEW, code=1))
    assert open_kinds(tracker) == {(LOOP, OLD), (CRASHED, NEW)}


def test_held_from_listings_only() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    tracker.observe_listing(T0, [ctr(OLD, group=APP, restarts=0)])
    tracker.observe_listing(T0 + 60, [ctr(OLD, RESTARTING, group=APP, restarts=10, exit_code=1)])
    assert open_kinds(tracker) == {(LOOP, OLD)}
    changes = tracker.observe_listing(T0 + 120, [])
    assert kinds(changes) == [(LOOP, True, OLD)]
    assert "stopped by Coolify after 10 restarts" in changes[0].message


def test_removal_during_a_redeploy_resolves_the_loop() -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    _looping(tracker, others=(ctr(NEW, group=APP, started=T0 - 50),))
    changes = feed(tracker, ev("destroy", T0 + 100, OLD))
    assert kinds(changes) == [(LOOP, False, OLD)]
    assert changes[0].message == f"{OLD} (shop / production / web) was removed"


@pytest.mark.parametrize("group", [STANDALONE, BLOG], ids=["standalone", "compose"])
def test_removal_of_a_loop_outside_coolify_resolves_it(group: ContainerGroup) -> None:
    tracker = IncidentTracker(restart_loop_count=3)
    _looping(tracker, "worker", group)
    changes = feed(tracker, *_coolify_stops("worker", T0 + 100))
    assert kinds(changes) == [(LOOP, False, "worker")]
    assert changes[0].message.endswith("was removed")


def test_a_held_loop_survives_a_service_restart() -> None:
    tracker = IncidentTracker(restart_loop_count=3, stable_seconds=60)
    _looping(tracker)
    feed(tracker, *_coolify_stops(OLD, T0 + 100))
    stored = tracker.open_incidents()

    after = IncidentTracker(restart_loop_count=3, stable_seconds=60)
    after.restore(stored)
    assert after.observe_listing(T0 + 100, [], remembered=True) == []
    assert after.observe_listing(T0 + 300, []) == []
    assert open_kinds(after) == {(LOOP, OLD)}
    listing = [ctr(NEW, group=APP, started=T0 + 400)]
    assert after.observe_listing(T0 + 430, listing) == []
    assert kinds(after.observe_listing(T0 + 470, listing)) == [(LOOP, False, OLD)]

"""Which container facts are incidents, and when they end: a pure state machine.

``IncidentTracker`` is fed the full container listing of every poll (``observe_listing``) and,
in between, the engine's events stream (``observe_event``). It answers with the incidents that
opened or resolved. There is no clock and no I/O: times come in with the listing (``now``, the
poller's clock) and with each event (``DockerEvent.time``, the engine's clock); the two are
assumed to agree to within a few seconds (NTP).

Rules, where the specification left room (see also the README of the test fixtures):

* **First sight.** A container seen for the first time opens its incident if it failed
  recently: it is restarting right now, or it finished at most ``RECENT_FAILURE_SECONDS``
  (10 min) ago. Then an OOM kill opens as OOM killed, a container restarting with at least
  ``restart_loop_count`` restarts as a restart loop, any other non-zero exit as a crash, except
  137/143 of a container that stays stopped (most likely a ``docker stop``: a listing cannot
  tell). The incident's time is the exit's. Any older failure is a baseline and opens nothing.
  A running container that is already unhealthy opens, and restarts seen from then on count
  toward a restart loop. The listing a previous run stored, replayed at start-up
  (``remembered``), is no first sight: that run judged those containers already, so what it
  resolved stays resolved. Whether an incident opened this way is announced at once is the
  alert manager's quiet-start rule.
* **Crashed.** A container that exits with a non-zero code, or is killed (137/143), without a
  stop asked of Docker. A ``kill`` event with a terminating signal (anything but the reload /
  job-control signals in ``NON_STOPPING_SIGNALS``) or a ``stop`` event, within
  ``STOP_REQUEST_SECONDS`` before the ``die``, means the stop was asked for: then any exit code
  is fine. With events, the crash opens at the ``die``. From listings alone, it opens when a
  container that was up (or started since the previous listing) is found exited, dead or
  restarting with a non-zero code; a container that restarted between two listings only counts
  toward a restart loop (its exit code is not known). An OOM kill is reported as OOM killed,
  not also as a crash. While a restart loop is open for the container no crash opens, and when
  the loop opens an open crash becomes it (``replaces``: one incident that got worse, with
  its id and opening time, not a crash resolved into a second incident). Resolved when the
  container has been running for ``stable_seconds`` (default 60 s, so a container that crashes
  again within a minute of its restart does not flap between resolved and open), or when it is
  removed.
* **Restart loop.** ``restart_loop_count`` restarts within ``restart_loop_minutes``. A restart
  is what the engine's restart policy does: a ``start`` event within ``AUTO_RESTART_SECONDS``
  after a ``die`` that was not asked for (dockerd emits ``die`` then ``start`` for these and no
  ``restart`` event: recorded from 20.10, and so in moby's current ``daemon/monitor.go``;
  ``restart`` comes from ``docker restart``, a stop asked for, so it is not counted), and any
  increase of ``RestartCount`` between listings that the events did not already account for
  (Docker increments it at the exit, so a listing that shows the container ``restarting`` has
  counted the coming ``start``). A ``docker start``/``restart`` resets RestartCount to 0: after
  such a start event, a lower count means only the restarts since it; a lower count without
  one just resynchronises. Restarts found by a listing are spread evenly over
  the time since the previous listing, so a long gap (service down for a day) does not look
  like a burst. Resolved when the container has been running for ``restart_loop_minutes`` with
  no restart counted in that window, or when it is removed; a container whose policy gave up
  (exited for good) keeps the incident open. **Coolify's restart limit:** at the app's
  ``max_restart_count`` (default 10) Coolify stops and removes the container
  (``app/Actions/Docker/GetContainersStatus.php`` -> ``StopApplication``: ``docker stop``, then
  ``docker rm -f``). A restart loop of a Coolify container that is removed (``destroy`` event
  or gone from a listing) while no container of the same app (``ContainerGroup.identity``) is
  up stays open as "stopped by Coolify after N restarts" (``STOPPED_BY_COOLIFY``, an update of
  the same incident, announced by nothing new), and resolves once a container of that app has
  been running for ``stable_seconds``. Compose and standalone containers: removed -> resolved.
* **OOM killed.** An ``oom`` event (which the kernel also sends when only one process of the
  container was killed), a ``die`` with 137 after one, or ``OOMKilled=true`` in a listing for
  a run we have not reported yet, on a container that ran while we watched. Resolved when it
  has been running for ``stable_seconds`` since the last OOM kill, or is removed.
* **Unhealthy.** A running container whose health is ``unhealthy`` (event or listing). Health
  of a stopped container is its last one and is ignored. Resolved when it is healthy again or
  removed; a stop does not resolve it.
* **Disappeared.** A container that was up (running, paused or restarting) is missing from a
  listing and no ``destroy`` event was seen for it. Not opened when another container with the
  same name, or of the same Coolify/compose app, is up in the same listing (a redeploy).
  Resolved when a container of that name (or app) is up again, or when a late ``destroy``
  event for it arrives. A removal (seen as ``destroy`` or as absence from the listing)
  resolves every other incident of that container.
* **Duplicates.** One open incident per (kind, container name). Events already processed
  (exact repeats, as a reconnect with ``since`` replays) and events older than what the last
  listing already shows for the container are ignored, so a replay neither reopens nor
  double-counts. After a service restart call ``restore`` with the incidents still open in the
  database and ``observe_listing`` before feeding replayed events.
* **Docker itself.** ``docker_unreachable`` opens only once Docker was seen on the host
  (a listing, an event, ``docker_reachable`` or a restored incident); one of the two kinds is
  open at a time (a switch resolves the other). Only ``docker_reachable`` resolves it, not a
  listing, so replaying the stored listing at start-up does not end an outage that goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar, Final

from vpshealth.domain.containers import (
    Container,
    ContainerGroup,
    ContainerIncident,
    ContainerState,
    DockerEvent,
    GroupKind,
    Health,
    IncidentKind,
)

UP_STATES: Final = frozenset(
    {ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.RESTARTING}
)
"""States of a container that is meant to be running."""

_EXITED_STATES: Final = frozenset(
    {ContainerState.EXITED, ContainerState.DEAD, ContainerState.RESTARTING}
)
"""States a listing shows after the main process ended (RESTARTING: waiting to restart)."""

DOCKER_KINDS: Final = frozenset(
    {IncidentKind.DOCKER_UNAVAILABLE, IncidentKind.DOCKER_PERMISSION_DENIED}
)

NON_STOPPING_SIGNALS: Final = frozenset({1, 10, 12, 17, 18, 19, 20, 21, 22, 23, 28})
"""HUP USR1 USR2 CHLD CONT STOP TSTP TTIN TTOU URG WINCH: ``docker kill -s`` with one of these
is a reload or job control, not a stop, so a later exit is not "asked for"."""

STOP_REQUEST_SECONDS: Final = 300
"""A kill/stop this long before the die still counts as asking for it (stop timeouts)."""

AUTO_RESTART_SECONDS: Final = 90
"""Docker's restart back-off doubles from 100 ms up to 1 min; a start this soon after an
unrequested die is the restart policy at work."""

STOPPED_BY_COOLIFY: Final = "stopped by Coolify"
"""In the message of a restart loop kept open after Coolify removed the container; a restored
incident with it is held again."""

RECENT_FAILURE_SECONDS: Final = 600
"""A container seen for the first time opens its incident if it failed (finished) at most this
long ago, or is restarting right now; an older failure is a baseline."""

_Handler = Callable[["_Track", DockerEvent, Container | None], list[ContainerIncident]]
_CLOCK_SLACK: Final = 1
"""An event's time (when it was logged) may fall into the second after the state change."""
_KILL_SIGNALS: Final = {137: "SIGKILL", 143: "SIGTERM"}
_SEEN_EVENTS: Final = 4096
_REMEMBERED_REMOVALS: Final = 4096
_MAX_RESTARTS_KEPT: Final = 1000


@dataclass(slots=True)
class _Track:
    """What we know of one container (by id)."""

    id: str
    name: str
    app: str | None = None
    group: ContainerGroup | None = None
    state: ContainerState | None = None
    listed_at: int | None = None
    listed_started_at: int | None = None
    listed_finished_at: int | None = None
    counted_restarts: int | None = None
    restarts_after_reset: int | None = None
    restarts: list[int] = field(default_factory=list)
    up_since: int | None = None
    stop_requested_at: int | None = None
    restart_pending_since: int | None = None
    oom_at: int | None = None
    oom_run: int | None = None
    handled_finish: int | None = None
    health_event_at: int | None = None


class IncidentTracker:
    _HANDLERS: ClassVar[dict[str, str]] = {
        "create": "_on_create",
        "start": "_on_start",
        "die": "_on_die",
        "oom": "_on_oom",
        "kill": "_on_kill",
        "stop": "_on_stop",
        "pause": "_on_pause",
        "unpause": "_on_pause",
        "health_status": "_on_health",
    }
    """Event action -> method; by name, so that a tracker per host (a thousand of them) does
    not carry its own table of bound methods."""

    def __init__(
        self,
        restart_loop_count: int = 3,
        restart_loop_minutes: float = 10,
        *,
        stable_seconds: int = 60,
    ) -> None:
        if restart_loop_count < 1:
            raise ValueError("restart_loop_count must be at least 1")
        if not restart_loop_minutes > 0:
            raise ValueError("restart_loop_minutes must be positive")
        if stable_seconds < 0:
            raise ValueError("stable_seconds must not be negative")
        self._loop_count = restart_loop_count
        self._loop_minutes = restart_loop_minutes
        self._window = restart_loop_minutes * 60.0
        self._stable = stable_seconds
        self._open: dict[tuple[IncidentKind, str], ContainerIncident] = {}
        self._tracks: dict[str, _Track] = {}
        self._removed: dict[str, bool] = {}  # container id -> removed by a destroy event
        self._disappeared_apps: dict[str, str] = {}  # name -> identity, of open "disappeared"
        self._seen: set[_EventKey] = set()
        self._seen_order: deque[_EventKey] = deque()
        self._docker_seen = False
        self._held: dict[str, str | None] = {}
        """Restart loops kept open after Coolify removed the container: name -> the app's
        identity (None for one restored from the database: then matched by its app name)."""

    # --- public API -----------------------------------------------------------------------

    def open_incidents(self) -> list[ContainerIncident]:
        return sorted(self._open.values(), key=lambda i: (i.at, i.kind.value, i.subject))

    def restore(self, open: Sequence[ContainerIncident]) -> None:
        """Incidents still open in the database: they are not opened again."""
        for incident in open:
            if not incident.opened:
                continue
            self._docker_seen = True
            key = self._key(incident.kind, incident.container_name)
            self._open.setdefault(key, incident)
            held = incident.kind is IncidentKind.RESTART_LOOP
            if held and STOPPED_BY_COOLIFY in incident.message:
                self._held.setdefault(incident.container_name, None)

    def docker_reachable(self, now: int) -> list[ContainerIncident]:
        self._docker_seen = True
        changes: list[ContainerIncident] = []
        for kind in sorted(DOCKER_KINDS):
            changes += self._resolve(kind, "", now, "Docker answers again")
        return changes

    def docker_unreachable(self, now: int, kind: IncidentKind) -> list[ContainerIncident]:
        if kind not in DOCKER_KINDS:
            raise ValueError(f"not a Docker daemon incident kind: {kind}")
        if not self._docker_seen or (kind, "") in self._open:
            return []
        message = _DOCKER_MESSAGES[kind]
        changes: list[ContainerIncident] = []
        for other in sorted(DOCKER_KINDS - {kind}):
            changes += self._resolve(other, "", now, f"now: {message}")
        changes += self._opened(kind, now, None, message)
        return changes

    def observe_listing(
        self, now: int, containers: Sequence[Container], *, remembered: bool = False
    ) -> list[ContainerIncident]:
        """Reconcile with the full listing of one poll. ``remembered``: the listing an earlier
        run stored (replayed at start-up); it already judged these containers, so seeing them
        here for the first time opens nothing."""
        self._docker_seen = True
        changes: list[ContainerIncident] = []
        # A container whose destroy event was handled is gone for good: a listing taken just
        # before the removal must not bring it back (it would then "disappear" with no
        # destroy event left to explain it).
        current = {c.id: c for c in containers if not self._removed.get(c.id, False)}
        for container_id in current:
            self._removed.pop(container_id, None)
        names = {c.name for c in current.values()}
        up_names = {c.name for c in current.values() if c.state in UP_STATES}
        up_apps = {_app_key(c.group) for c in current.values() if c.state in UP_STATES}
        up_apps.discard(None)

        vanished = [t for t in self._tracks.values() if t.id not in current]
        for track in vanished:
            del self._tracks[track.id]
            self._forget(track.id)
        changes += self._resolve_absent(now, current, names, {t.id: t for t in vanished})
        for track in vanished:
            if (
                track.state in UP_STATES
                and track.name not in self._held
                and track.name not in up_names
                and _app_key(track.group) not in up_apps
            ):
                opened = self._opened(
                    IncidentKind.DISAPPEARED,
                    now,
                    track,
                    f"{_who(track.name, track.app)} disappeared: it was running and is no longer "
                    "listed",
                )
                identity = _app_key(track.group)
                if opened and identity is not None:
                    self._disappeared_apps[track.name] = identity
                changes += opened
        for container in sorted(current.values(), key=lambda c: (c.name, c.id)):
            changes += self._reconcile(now, container, remembered=remembered)
        changes += self._resolve_held(now, current.values())
        return changes

    def observe_event(
        self, event: DockerEvent, container: Container | None
    ) -> list[ContainerIncident]:
        """One event from the stream; ``container`` is the latest inspect of it we have, if
        any (only its app is used: it may be older or newer than the event)."""
        self._docker_seen = True
        if _event_key(event) in self._seen:
            return []
        if event.container_id in self._removed and event.action != "destroy":
            return []
        self._remember(event)
        if event.action == "destroy":
            return self._destroyed(event)
        track = self._tracks.get(event.container_id)
        if track is None:
            track = self._tracks[event.container_id] = _Track(event.container_id, event.name)
        changes = self._renamed(track, event.name, event.time)
        if container is not None and container.id == event.container_id:
            track.app = container.group.app
            track.group = container.group
        elif track.group is None:  # not listed yet: the labels the event carries name the app
            track.app = event.group.app
            track.group = event.group
        handler_name = self._HANDLERS.get(event.action)
        if handler_name is not None and not self._stale(track, event):
            handler: _Handler = getattr(self, handler_name)
            changes += handler(track, event, container)
        return changes

    # --- listing --------------------------------------------------------------------------

    def _resolve_absent(
        self,
        now: int,
        current: dict[str, Container],
        names: set[str],
        vanished: dict[str, _Track],
    ) -> list[ContainerIncident]:
        """Incidents of containers that are gone (including restored ones) end, except a
        restart loop that Coolify ended by removing the container (see ``_hold``)."""
        changes: list[ContainerIncident] = []
        up = {c.group.identity for c in current.values() if c.state in UP_STATES}
        for (kind, name), incident in list(self._open.items()):
            if kind in DOCKER_KINDS or kind is IncidentKind.DISAPPEARED or name in self._held:
                continue
            present = incident.container_id in current if incident.container_id else name in names
            if present:
                continue
            held = self._hold(incident, vanished.get(incident.container_id), up, now)
            if held is not None:
                changes += held
                continue
            how = "was replaced by a new container" if name in names else "was removed"
            changes += self._resolve(kind, name, now, f"{_who(name, incident.app)} {how}")
        return changes

    def _hold(
        self, incident: ContainerIncident, track: _Track | None, up: set[str | None], at: int
    ) -> list[ContainerIncident] | None:
        """A restart loop whose Coolify container was removed (Coolify stops and removes it at
        the app's ``max_restart_count``) while no container of the app runs stays open; None
        when it is not such a case (then it resolves as usual)."""
        if incident.kind is not IncidentKind.RESTART_LOOP or track is None or track.group is None:
            return None
        identity = track.group.identity
        if track.group.kind is not GroupKind.COOLIFY or identity is None or identity in up:
            return None
        self._held[incident.container_name] = identity
        restarts = track.counted_restarts if track.counted_restarts else len(track.restarts)
        who = _who(incident.container_name, incident.app)
        message = _one_line(
            f"{who} was {STOPPED_BY_COOLIFY} after {restarts} restarts; "
            "no container of the app runs"
        )
        updated = replace(incident, at=at, message=message, replaces=None)
        self._open[self._key(incident.kind, incident.container_name)] = updated
        return [updated]

    def _resolve_held(self, now: int, listed: Iterable[Container]) -> list[ContainerIncident]:
        """A held restart loop ends once a container of its app has run ``stable_seconds``."""
        if not self._held:
            return []
        changes: list[ContainerIncident] = []
        for c in listed:
            started = c.started_at
            if c.state is not ContainerState.RUNNING or started is None:
                continue
            if now - started < self._stable:
                continue
            for name, identity in list(self._held.items()):
                incident = self._open.get(self._key(IncidentKind.RESTART_LOOP, name))
                if incident is None:
                    del self._held[name]
                    continue
                if identity is not None and c.group.identity != identity:
                    continue
                if identity is None and (incident.app is None or c.group.app != incident.app):
                    continue
                message = f"{incident.app or name} runs again: {c.name} has been up for "
                message += f"{now - started} s"
                changes += self._resolve(IncidentKind.RESTART_LOOP, name, now, message)
        return changes

    def _reconcile(self, now: int, c: Container, *, remembered: bool) -> list[ContainerIncident]:
        track = self._tracks.get(c.id)
        first_sight = track is None
        if track is None:
            track = self._tracks[c.id] = _Track(c.id, c.name)
        previous_state = track.state
        ran = previous_state in UP_STATES or (
            not first_sight and c.started_at is not None and c.started_at != track.listed_started_at
        )
        changes = self._renamed(track, c.name, now)
        track.app, track.group = c.group.app, c.group
        changes += self._listing_restarts(now, track, c)
        if first_sight:
            track.oom_run = c.started_at if c.oom_killed else None
            track.handled_finish = c.finished_at
            if not remembered:
                changes += self._first_sight_failure(now, track, c)
        else:
            changes += self._listing_exit(now, track, c, ran=ran)
        if track.health_event_at is not None and now <= track.health_event_at + _CLOCK_SLACK:
            pass  # a listing taken before the latest health event: the event is the news
        elif c.state is ContainerState.RUNNING and c.health is Health.UNHEALTHY:
            changes += self._opened(IncidentKind.UNHEALTHY, now, track, _unhealthy_message(c))
        elif c.health is Health.HEALTHY:
            changes += self._resolve_unhealthy(track, now)
        if c.state in UP_STATES:
            if previous_state not in UP_STATES or track.up_since is None:
                track.up_since = c.started_at if c.started_at is not None else now
            changes += self._resolve_disappeared(c.name, track.group, now)
        else:
            track.up_since = None
        if c.state is ContainerState.RUNNING:
            changes += self._resolve_if_stable(now, track, c)
        if c.state is ContainerState.RESTARTING:
            # Docker counts the restart when the process exits: the coming start is counted.
            track.restart_pending_since = None
        track.state = c.state
        track.listed_at = now
        track.listed_started_at = c.started_at
        track.listed_finished_at = c.finished_at
        return changes

    def _first_sight_failure(
        self, now: int, track: _Track, c: Container
    ) -> list[ContainerIncident]:
        """A container that failed recently before we first saw it (see the module's rules)."""
        restarting = c.state is ContainerState.RESTARTING
        finished = c.finished_at
        recent = finished is not None and 0 <= now - finished <= RECENT_FAILURE_SECONDS
        if c.state not in _EXITED_STATES or not (restarting or recent):
            return []
        at = min(finished, now) if finished is not None and recent else now
        if c.oom_killed:
            track.oom_at = now  # "stays up" counts from when we saw it
            return self._opened_oom(track, at)
        if restarting and c.restart_count >= self._loop_count:
            who = _who(track.name, track.app)
            message = f"{who} is restarting again and again: {c.restart_count} restarts so far"
            if c.exit_code:
                message += f", the last with exit code {c.exit_code}"
            return self._opened(IncidentKind.RESTART_LOOP, at, track, message)
        code = c.exit_code
        if code is None or code == 0 or (code in _KILL_SIGNALS and not restarting):
            return []  # 137/143 of a stopped container: most likely a docker stop
        return self._opened_crash(track, at, code)

    def _listing_restarts(self, now: int, track: _Track, c: Container) -> list[ContainerIncident]:
        counted, after_reset = track.counted_restarts, track.restarts_after_reset
        track.counted_restarts, track.restarts_after_reset = c.restart_count, None
        if counted is None:
            return []
        if c.restart_count >= counted:
            new = c.restart_count - counted
        elif after_reset is not None:  # reset by a docker start/restart we saw
            new = max(c.restart_count - after_reset, 0)
        else:  # a reset we did not see: cannot place its restarts, just resynchronise
            new = 0
        if new == 0:
            return []
        new = min(new, _MAX_RESTARTS_KEPT)
        since = track.listed_at if track.listed_at is not None and track.listed_at < now else now
        times = [since + (now - since) * (i + 1) // new for i in range(new)]
        return self._restarted(track, times, now)

    def _listing_exit(
        self, now: int, track: _Track, c: Container, *, ran: bool
    ) -> list[ContainerIncident]:
        changes: list[ContainerIncident] = []
        if c.oom_killed and not self._oom_reported(track, c) and (ran or c.state in UP_STATES):
            track.oom_run = c.started_at
            track.oom_at = now  # when it happened is unknown: "stays up" counts from now
            changes += self._opened_oom(track, now)
        if not ran or c.state not in _EXITED_STATES or c.finished_at == track.handled_finish:
            return changes
        track.handled_finish = c.finished_at
        if c.oom_killed or self._requested(track, c.finished_at or now):
            return changes
        if c.exit_code is not None and c.exit_code != 0:
            changes += self._opened_crash(track, now, c.exit_code)
        return changes

    def _oom_reported(self, track: _Track, c: Container) -> bool:
        if track.oom_run is not None and track.oom_run == c.started_at:
            return True
        return (
            track.oom_at is not None and c.started_at is not None and c.started_at <= track.oom_at
        )

    def _resolve_if_stable(self, now: int, track: _Track, c: Container) -> list[ContainerIncident]:
        run_start = c.started_at if c.started_at is not None else track.up_since
        if run_start is None:
            return []
        up_for = now - run_start
        who = _who(c.name, track.app)
        changes: list[ContainerIncident] = []
        if up_for >= self._stable:
            changes += self._resolve(
                IncidentKind.CRASHED, c.name, now, f"{who} is running again", c.id
            )
            if track.oom_at is None or now - track.oom_at >= self._stable:
                changes += self._resolve(
                    IncidentKind.OOM_KILLED, c.name, now, f"{who} is running again", c.id
                )
        recent = [t for t in track.restarts if now - t < self._window]
        if up_for >= self._window and not recent:
            changes += self._resolve(
                IncidentKind.RESTART_LOOP,
                c.name,
                now,
                f"{who} has stayed up for {self._loop_minutes:g} min",
                c.id,
            )
        return changes

    # --- events ---------------------------------------------------------------------------

    def _stale(self, track: _Track, event: DockerEvent) -> bool:
        """Older than what the last listing already shows for this container."""
        started = track.listed_started_at
        if started is None or event.action in ("create", "destroy", "restart"):
            return False
        if event.action == "start":
            return event.time <= started + _CLOCK_SLACK
        finished = track.listed_finished_at
        if event.action == "die" and finished is not None and finished >= started:
            return event.time <= finished
        return event.time < started

    def _on_start(
        self, track: _Track, event: DockerEvent, _: Container | None
    ) -> list[ContainerIncident]:
        pending = track.restart_pending_since
        automatic = pending is not None and 0 <= event.time - pending <= AUTO_RESTART_SECONDS
        track.state = ContainerState.RUNNING
        track.up_since = event.time
        track.stop_requested_at = None
        track.restart_pending_since = None
        track.oom_at = None
        changes = self._resolve_disappeared(track.name, track.group, event.time)
        if automatic:
            if track.counted_restarts is not None:
                track.counted_restarts += 1
            if track.restarts_after_reset is not None:
                track.restarts_after_reset += 1
            changes += self._restarted(track, [event.time], event.time)
        else:
            track.restarts_after_reset = 0
        return changes

    def _on_die(
        self, track: _Track, event: DockerEvent, container: Container | None
    ) -> list[ContainerIncident]:
        requested = self._requested(track, event.time)
        oom = (track.oom_at is not None and event.exit_code == 137) or (
            container is not None  # an inspect made after this very exit says OOMKilled
            and container.id == track.id
            and container.oom_killed
            and container.state not in UP_STATES
            and container.finished_at is not None
            and container.finished_at >= event.time - _CLOCK_SLACK
        )
        track.state = ContainerState.EXITED
        track.up_since = None
        track.restart_pending_since = None if requested else event.time
        changes: list[ContainerIncident] = []
        if oom:
            if track.oom_at is None:
                track.oom_at = event.time
            changes += self._opened_oom(track, event.time)
        elif not requested and event.exit_code is not None and event.exit_code != 0:
            changes += self._opened_crash(track, event.time, event.exit_code)
        return changes

    def _on_oom(
        self, track: _Track, event: DockerEvent, _: Container | None
    ) -> list[ContainerIncident]:
        track.oom_at = event.time
        return self._opened_oom(track, event.time)

    def _on_kill(
        self, track: _Track, event: DockerEvent, _: Container | None
    ) -> list[ContainerIncident]:
        if event.signal is None or event.signal not in NON_STOPPING_SIGNALS:
            track.stop_requested_at = event.time
        return []

    def _on_stop(
        self, track: _Track, event: DockerEvent, _: Container | None
    ) -> list[ContainerIncident]:
        track.stop_requested_at = event.time
        track.restart_pending_since = None
        return []

    def _on_pause(
        self, track: _Track, event: DockerEvent, _: Container | None
    ) -> list[ContainerIncident]:
        track.state = ContainerState.PAUSED if event.action == "pause" else ContainerState.RUNNING
        return []

    def _on_create(
        self, track: _Track, event: DockerEvent, _: Container | None
    ) -> list[ContainerIncident]:
        if track.state is None:
            track.state = ContainerState.CREATED
        return []

    def _on_health(
        self, track: _Track, event: DockerEvent, _: Container | None
    ) -> list[ContainerIncident]:
        track.health_event_at = event.time
        if event.health is Health.UNHEALTHY:
            # Health checks only run in a running container: the event itself says it runs.
            return self._opened(
                IncidentKind.UNHEALTHY,
                event.time,
                track,
                f"{_who(track.name, track.app)} is unhealthy",
            )
        if event.health is Health.HEALTHY:
            return self._resolve_unhealthy(track, event.time)
        return []

    def _forget(self, container_id: str, *, destroyed: bool = False) -> None:
        """Removed: later (replayed) events about it are ignored. After a destroy event it is
        gone for good; a container only missing from a listing may still come back."""
        self._removed[container_id] = destroyed or self._removed.get(container_id, False)
        while len(self._removed) > _REMEMBERED_REMOVALS:
            del self._removed[next(iter(self._removed))]

    def _destroyed(self, event: DockerEvent) -> list[ContainerIncident]:
        self._forget(event.container_id, destroyed=True)
        track = self._tracks.pop(event.container_id, None)
        if track is not None and track.group is None:
            track.group, track.app = event.group, event.group.app
        app = track.app if track is not None else None
        up = {
            t.group.identity
            for t in self._tracks.values()
            if t.state in UP_STATES and t.group is not None
        }
        changes: list[ContainerIncident] = []
        for (kind, name), incident in list(self._open.items()):
            if kind in DOCKER_KINDS or name in self._held:
                continue
            if incident.container_id == event.container_id or (
                not incident.container_id and name == event.name
            ):
                held = self._hold(incident, track, up, event.time)
                if held is not None:
                    changes += held
                    continue
                who = _who(name, incident.app or app)
                changes += self._resolve(kind, name, event.time, f"{who} was removed")
        return changes

    # --- shared ---------------------------------------------------------------------------

    def _requested(self, track: _Track, at: int) -> bool:
        asked = track.stop_requested_at
        return asked is not None and 0 <= at - asked <= STOP_REQUEST_SECONDS

    def _restarted(self, track: _Track, times: Iterable[int], at: int) -> list[ContainerIncident]:
        track.restarts.extend(times)
        recent = [t for t in track.restarts if at - t <= self._window]
        track.restarts = recent[-_MAX_RESTARTS_KEPT:]
        if len(recent) < self._loop_count:
            return []
        if self._key(IncidentKind.RESTART_LOOP, track.name) in self._open:
            return []
        who = _who(track.name, track.app)
        restarted = f"restarted {len(recent)} times in {self._loop_minutes:g} min"
        crash = self._open.pop(self._key(IncidentKind.CRASHED, track.name), None)
        if crash is None:
            return self._opened(IncidentKind.RESTART_LOOP, at, track, f"{who} {restarted}")
        return self._opened(
            IncidentKind.RESTART_LOOP,
            at,
            track,
            f"{who} keeps crashing: {restarted}",
            replaces=IncidentKind.CRASHED,
        )

    def _opened_crash(self, track: _Track, at: int, exit_code: int) -> list[ContainerIncident]:
        if self._key(IncidentKind.RESTART_LOOP, track.name) in self._open:
            return []
        who = _who(track.name, track.app)
        signal = _KILL_SIGNALS.get(exit_code)
        if signal is None:
            message = f"{who} crashed with exit code {exit_code}"
        else:
            message = f"{who} was killed ({signal}, exit code {exit_code}) without a docker stop"
        return self._opened(IncidentKind.CRASHED, at, track, message)

    def _opened_oom(self, track: _Track, at: int) -> list[ContainerIncident]:
        message = f"{_who(track.name, track.app)} was killed: out of memory"
        return self._opened(IncidentKind.OOM_KILLED, at, track, message)

    def _renamed(self, track: _Track, name: str, at: int) -> list[ContainerIncident]:
        """``docker rename``: the incidents under the old name end (they are per name)."""
        old, track.name = track.name, name
        if old == name:
            return []
        changes: list[ContainerIncident] = []
        for (kind, subject), incident in list(self._open.items()):
            if subject == old and incident.container_id == track.id:
                message = f"{_who(old, incident.app)} was renamed to {name}"
                changes += self._resolve(kind, subject, at, message)
        return changes

    def _resolve_unhealthy(self, track: _Track, at: int) -> list[ContainerIncident]:
        message = f"{_who(track.name, track.app)} is healthy again"
        return self._resolve(IncidentKind.UNHEALTHY, track.name, at, message)

    def _resolve_disappeared(
        self, name: str, group: ContainerGroup | None, at: int
    ) -> list[ContainerIncident]:
        changes: list[ContainerIncident] = []
        app = _app_key(group)
        for (kind, subject), incident in list(self._open.items()):
            if kind is not IncidentKind.DISAPPEARED:
                continue
            gone = self._disappeared_apps.get(subject)
            same_app = app is not None and (
                gone == app if gone is not None else group is not None and incident.app == group.app
            )
            if subject == name or same_app:
                self._disappeared_apps.pop(subject, None)
                message = f"{_who(subject, incident.app)} is back"
                changes += self._resolve(kind, subject, at, message)
        return changes

    def _opened(
        self,
        kind: IncidentKind,
        at: int,
        track: _Track | None,
        message: str,
        *,
        replaces: IncidentKind | None = None,
    ) -> list[ContainerIncident]:
        """Open (kind, the track's name) unless already open; no track: Docker itself."""
        container_id, name, app = (
            ("", "", None) if track is None else (track.id, track.name, track.app)
        )
        key = self._key(kind, name)
        if key in self._open:
            return []
        incident = ContainerIncident(
            kind, True, at, container_id, name, app, _one_line(message), replaces=replaces
        )
        self._open[key] = incident
        return [incident]

    def _resolve(
        self,
        kind: IncidentKind,
        name: str,
        at: int,
        message: str,
        container_id: str | None = None,
    ) -> list[ContainerIncident]:
        """Resolve (kind, name) if open (and, with ``container_id``, only if about it)."""
        key = self._key(kind, name)
        incident = self._open.get(key)
        if incident is None:
            return []
        if container_id is not None and incident.container_id not in ("", container_id):
            return []
        del self._open[key]
        if kind is IncidentKind.RESTART_LOOP:
            self._held.pop(name, None)
        return [
            ContainerIncident(
                kind,
                False,
                at,
                incident.container_id,
                incident.container_name,
                incident.app,
                _one_line(message),
            )
        ]

    @staticmethod
    def _key(kind: IncidentKind, name: str) -> tuple[IncidentKind, str]:
        return kind, "" if kind in DOCKER_KINDS else name

    def _remember(self, event: DockerEvent) -> None:
        key = _event_key(event)
        self._seen.add(key)
        self._seen_order.append(key)
        if len(self._seen_order) > _SEEN_EVENTS:
            self._seen.discard(self._seen_order.popleft())


_EventKey = tuple[int, str, str, str, int | None, Health | None, int | None]


def _event_key(event: DockerEvent) -> _EventKey:
    """What tells a repeated event apart, without its labels (kept for thousands of events)."""
    return (
        event.time,
        event.action,
        event.container_id,
        event.name,
        event.exit_code,
        event.health,
        event.signal,
    )


_DOCKER_MESSAGES: Final = {
    IncidentKind.DOCKER_UNAVAILABLE: "Docker is not answering",
    IncidentKind.DOCKER_PERMISSION_DENIED: "Docker refuses access: permission denied on its "
    "socket (is the SSH user in the docker group?)",
}


def _app_key(group: ContainerGroup | None) -> str | None:
    """The app (and member, and preview) a container belongs to, for recognising a redeploy:
    its stable identity; None for standalone."""
    return None if group is None else group.identity


def _who(name: str, app: str | None) -> str:
    """``web (shop / production / web)``, or just the name when there is no app."""
    return f"{name} ({app})" if app and app != name else name


def _unhealthy_message(c: Container) -> str:
    who = _who(c.name, c.group.app)
    if c.failing_streak > 1:
        return f"{who} is unhealthy ({c.failing_streak} failed checks in a row)"
    return f"{who} is unhealthy"


def _one_line(text: str) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())

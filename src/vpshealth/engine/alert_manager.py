"""Turns poll results and container incidents into incidents and notifications.

Results are queued by the scheduler's sink and handled every ``TICK_SECONDS`` in one place: the
host's conditions are evaluated against its rules, the incident lifecycle decides, the decision
is written on the writer thread (incidents, events, notifications for the delivery channels), and
the notifiers that show things right away (the log, the desktop) get what reaches their minimum
severity. Acknowledgements, silences and rules edited by another process (the CLI, the GUI)
are re-read every ``REFRESH_SECONDS``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine

from vpshealth.clock import Clock
from vpshealth.domain.alert_conditions import (
    CONTAINER_RULES,
    ConditionChange,
    HostConditions,
    from_container_incident,
)
from vpshealth.domain.alert_rules import RuleBook
from vpshealth.domain.containers import ContainerIncident, Severity
from vpshealth.domain.health import CheckResult
from vpshealth.domain.hosts import Host
from vpshealth.domain.incident_lifecycle import IncidentBook, Notice, Outcome, Policy, Write
from vpshealth.domain.metric_catalog import LEVELLED
from vpshealth.domain.notifications import Notification, Notifier, at_least, show_each
from vpshealth.domain.silences import Silence, silenced
from vpshealth.engine.live_hub import LiveHub
from vpshealth.store.handback import stored_view
from vpshealth.store.incident_store import IncidentStore
from vpshealth.store.rule_repository import RuleRepository, StoredRules
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.store.silence_repository import SilenceRepository

log = logging.getLogger(__name__)

T = TypeVar("T")
WriterRunner = Callable[[Callable[[], T]], Awaitable[T]]

TICK_SECONDS = 2.0
REFRESH_SECONDS = 10.0
QUIET_POLLS = 2
"""Fresh polls each host needs after a start or a wake-up before anything is announced."""
RESUME_GAP_SECONDS = 60.0
"""A tick this much later than due means the machine slept."""
STALL_GAP_SECONDS = 30.0
"""A tick this much later than due means the process was stopped (SIGSTOP) or suspended ..."""
STALL_HOLD_SECONDS = 60.0
"""... and new alerts are held this long after it notices, so that a desktop that took over
the checks meanwhile can hand them back first (docs/sync.md, "Taking over")."""


@dataclass(frozen=True, slots=True)
class _HostInfo:
    name: str
    address: str


@dataclass(slots=True)
class _Observed:
    host_id: int
    result: CheckResult | None = None
    incidents: Sequence[ContainerIncident] = ()


@dataclass(slots=True)
class _Config:
    silences: list[Silence] = field(default_factory=list)
    desktop_min: Severity = Severity.WARNING


class LogNotifier:
    """A log line per notification, always: the notifiers given (the desktop's) add to it."""

    def notify(self, notifications: Sequence[Notification]) -> None:
        for n in notifications:
            where = f" ({n.host_address})" if n.host_address else ""
            since = datetime.fromtimestamp(n.since, UTC).strftime("%Y-%m-%d %H:%M UTC")
            log.warning(
                "Notification (%s, %s): %s — %s%s; since %s",
                n.kind.value, n.severity.value, n.summary, n.message, where, since,
            )  # fmt: skip


class AlertManager:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        run_in_writer: WriterRunner[list[Notification]],
        notifiers: Sequence[Notifier] = (),
        rules: RuleBook | None = None,
        *,
        live: LiveHub | None = None,
        stall_hold: float = 0.0,
    ) -> None:
        """``rules``: shared with the pollers, which colour each host by them; reloaded here
        every ``REFRESH_SECONDS``. ``live`` gets the live stream's messages of each save.
        ``stall_hold``: how long new alerts are held after a stall (0: not held)."""
        self._engine = engine
        self._live = live
        self._rules = rules if rules is not None else RuleBook()
        self._clock = clock
        self._run_in_writer = run_in_writer
        self._notifiers: tuple[Notifier, ...] = (LogNotifier(), *notifiers)
        self._book = IncidentBook()
        self._conditions: dict[int, HostConditions] = {}
        self._hosts: dict[int, _HostInfo] = {}
        self._queue: list[_Observed] = []
        self._fresh_polls: dict[int, int] = {}
        self._quiet_since = 0.0
        self._config = _Config()
        self._unsaved: tuple[list[Write], list[Notification]] = ([], [])
        self._last_step: float | None = None
        self._last_refresh = float("-inf")
        self._started = False
        self._stall_hold = stall_hold
        self._held_until: float | None = None

    # --- fed by the scheduler and the Docker event streams (synchronous, cheap) ---

    def track_host(self, host_id: int, host: Host) -> None:
        self._hosts[host_id] = _HostInfo(host.name, host.display_address)

    def observe(self, host_id: int, result: CheckResult) -> None:
        self._queue.append(_Observed(host_id, result=result))

    def observe_incidents(self, host_id: int, incidents: Sequence[ContainerIncident]) -> None:
        self._queue.append(_Observed(host_id, incidents=incidents))

    def forget_host(self, host_id: int) -> None:
        self._book.forget_host(host_id)
        self._conditions.pop(host_id, None)
        self._hosts.pop(host_id, None)
        self._fresh_polls.pop(host_id, None)

    # --- the loop ---

    async def start(self) -> None:
        store = IncidentStore(self._engine)
        self._book.restore(await asyncio.to_thread(store.load_open))
        await self._refresh(self._clock.now())
        self._quiet_since = self._clock.now()
        self._started = True

    async def run(self) -> None:
        """Step every ``TICK_SECONDS`` until cancelled; a failed step is logged and retried."""
        if not self._started:
            await self.start()
        while True:
            await self._clock.sleep(TICK_SECONDS)
            try:
                await self.step()
            except Exception:
                log.exception("Could not process alerts; will retry")

    async def step(self) -> list[Notification]:
        now = self._clock.now()
        if self._last_step is not None and now - self._last_step > RESUME_GAP_SECONDS:
            log.info("The clock jumped %.0f s: woke up from sleep; quiet until fresh polls",
                     now - self._last_step)  # fmt: skip
            self._begin_quiet(now)
        if (
            self._stall_hold > 0
            and self._last_step is not None
            and now - self._last_step > STALL_GAP_SECONDS
        ):
            log.info("This process was stopped for %.0f s: new alerts held for %.0f s",
                     now - self._last_step, self._stall_hold)  # fmt: skip
            self._held_until = now + self._stall_hold
            self._begin_quiet(now)
        self._last_step = now
        hold_ended = self._held_until is not None and now >= self._held_until
        if hold_ended:
            self._held_until = None
        if hold_ended or now - self._last_refresh >= REFRESH_SECONDS:
            await self._refresh(now)
        outcome = Outcome()
        queue, self._queue = self._queue, []
        for observed in queue:
            outcome.extend(self._handle(observed, now))
        outcome.extend(self._book.tick(int(now), self._policy_at(now)))
        return await self._save(outcome)

    def _begin_quiet(self, now: float) -> None:
        self._quiet_since = now
        self._fresh_polls.clear()
        for conditions in self._conditions.values():
            conditions.restart_timers()

    async def _refresh(self, now: float) -> None:
        def read() -> tuple[_Config, StoredRules]:
            stored = RuleRepository(self._engine).stored()
            silences = SilenceRepository(self._engine).current(int(now))
            minimum = SettingsRepository(self._engine).desktop_min_severity()
            return _Config(silences, minimum), stored

        store = IncidentStore(self._engine)
        self._config, stored = await asyncio.to_thread(read)
        self._rules.load(*stored)
        self._book.set_acknowledged(await asyncio.to_thread(store.acknowledged))
        await self._take_handback(now)
        self._last_refresh = now

    async def _take_handback(self, now: float) -> None:
        """What a desktop's hand-back changed (store/handback.py): incidents it told of are
        told of, those it resolved are gone (their host's conditions are rebuilt), those the
        node did not see are taken on."""
        view = await asyncio.to_thread(stored_view, self._engine, int(now))
        rebuilt: set[int] = set()
        known = set()
        for incident in self._book.open_incidents():
            known.add(incident.key)
            if (*incident.key, incident.opened_at) in view.handed_back_resolved:
                self._book.drop(incident.key)
                rebuilt.add(incident.host_id)
            elif incident.last_notified_at is None and incident.key in view.told:
                incident.last_notified_at = view.told[incident.key]
        if set(view.told) - known:
            stored_open = await asyncio.to_thread(IncidentStore(self._engine).load_open)
            adopted = [i for i in stored_open if i.key in set(view.told) - known]
            self._book.restore(adopted)
            rebuilt |= {i.host_id for i in adopted}
        for host_id in rebuilt:
            self._conditions.pop(host_id, None)

    def _policy_at(self, now: float) -> Callable[[int], Policy]:
        def policy(host_id: int) -> Policy:
            rules = self._rules.rules(host_id)
            held = self._held_until is not None and now < self._held_until
            return Policy(
                quiet=held or self._fresh_polls.get(host_id, 0) < QUIET_POLLS,
                silenced=silenced(self._config.silences, host_id, now),
                reminder_seconds=rules["reminder.hours"] * 3600,
                flap_cycles=int(rules["flapping.cycles"]),
                flap_seconds=rules["flapping.minutes"] * 60,
            )

        return policy

    def _handle(self, observed: _Observed, now: float) -> Outcome:
        host_id = observed.host_id
        rules = self._rules.rules(host_id)
        changes: list[ConditionChange] = []
        incidents = list(observed.incidents)
        if observed.result is not None:
            result = observed.result
            if result.checked_at >= self._quiet_since:
                self._fresh_polls[host_id] = self._fresh_polls.get(host_id, 0) + 1
            conditions = self._conditions.get(host_id)
            if conditions is None:
                conditions = HostConditions()
                conditions.restore(
                    {
                        key: severity
                        for key, severity in self._book.active_conditions(host_id).items()
                        if key[0] not in CONTAINER_RULES
                    }
                )
                self._conditions[host_id] = conditions
            changes += conditions.observe(result, rules)
            if result.docker is not None:
                incidents += result.docker.changes
        for incident in incidents:
            change = from_container_incident(incident)
            if change.severity is not None and not rules["containers"]:
                continue
            changes.append(change)
        policy = self._policy_at(now)(host_id)
        outcome = Outcome()
        for change in changes:
            outcome.extend(self._book.apply(host_id, change, policy))
        return outcome

    async def _save(self, outcome: Outcome) -> list[Notification]:
        writes = self._unsaved[0] + outcome.writes
        raised = self._unsaved[1] + [self._notification(n) for n in outcome.notices]
        if not writes and not raised:
            return []
        store = IncidentStore(self._engine)

        def save() -> list[Notification]:
            batch = store.save_batch(writes, raised)
            if self._live is not None:
                self._live.publish(batch.live)
            return batch.notifications

        try:
            saved = await self._run_in_writer(save)
        except Exception:
            self._unsaved = (writes, raised)
            raise
        self._unsaved = ([], [])
        self._show(saved)
        return saved

    def _notification(self, notice: Notice) -> Notification:
        incident = notice.incident
        info = self._hosts.get(incident.host_id, _HostInfo(f"host {incident.host_id}", ""))
        return Notification(
            kind=notice.kind,
            severity=incident.severity,
            host_name=info.name,
            host_address=info.address,
            rule=incident.rule,
            subject=incident.subject,
            title=_title(notice),
            message=notice.message,
            since=incident.opened_at,
            at=notice.at,
            host_id=incident.host_id,
            app=incident.app,
            value=incident.value,
            threshold=incident.threshold,
            unit=incident.unit,
            log_lines=incident.log_lines,
        )

    def _show(self, notifications: Sequence[Notification]) -> None:
        shown = [n for n in notifications if at_least(n.severity, self._config.desktop_min)]
        show_each(self._notifiers, shown, _notifier_failed)

    @property
    def open_incident_count(self) -> int:
        return len(self._book.open_incidents())


RULE_TITLES = {
    **{metric.name: metric.levels.incident for metric in LEVELLED if metric.levels is not None},
    "disk_forecast": "disk {subject} predicted full",
    "unreachable": "not answering",
    "host_key": "host key changed",
    "crashed": "{subject} crashed",
    "restart_loop": "restart loop of {subject}",
    "oom_killed": "{subject} killed (out of memory)",
    "unhealthy": "{subject} unhealthy",
    "disappeared": "{subject} gone",
    "docker_unavailable": "Docker not answering",
    "docker_permission_denied": "Docker socket not readable",
}


def _title(notice: Notice) -> str:
    """What happened, without the server (the channels add it) or the kind (opened,
    resolved ... is a field of its own)."""
    incident = notice.incident
    subject = incident.app or incident.container_name or incident.subject
    template = RULE_TITLES.get(incident.rule, incident.rule.replace("_", " ") + " {subject}")
    return template.format(subject=subject).strip()


def _notifier_failed(_notifier: Notifier) -> None:
    log.exception("A notifier failed")

"""Writing a round of poll results in one transaction: the check rows, the latest status,
state-change events, the metric samples and the live stream's messages about them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.domain.containers import ContainerIncident
from vpshealth.domain.health import CheckResult
from vpshealth.domain.live import LiveDraft, LiveMessage, check_draft, state_draft
from vpshealth.domain.metrics_json import metrics_to_json
from vpshealth.domain.series import flatten, flatten_containers
from vpshealth.store import live_log, staged_samples
from vpshealth.store.docker_repository import (
    record_incident,
    replace_containers,
)
from vpshealth.store.id_lists import one_of
from vpshealth.store.schema import host_status, hosts, series


@dataclass(frozen=True, slots=True)
class StateChange:
    host_id: int
    host_name: str
    old_state: str | None
    new_state: str
    message: str


@dataclass(frozen=True, slots=True)
class Written:
    """What a batch changed: the hosts' state changes, and the live messages it recorded."""

    changes: list[StateChange]
    live: list[LiveMessage]


Row = tuple[Any, ...]

SERIES_CACHE_SECONDS = 1800.0
"""Series ids not used for this long (up to twice as long) are looked up again when needed:
the cache would otherwise grow with every container name ever seen. Far shorter than the
shortest raw retention, so a cached series always has history and is never removed by the
hourly prune (``maintenance.drop_empty_series``), which runs on the writer thread too."""

_INSERT_CHECKS = (
    "INSERT INTO checks (host_id, checked_at, state, problem, message, duration_ms) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_UPSERT_STATUS = (
    "INSERT INTO host_status (host_id, state, problem, message, since, checked_at, "
    "metrics_json) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host_id) DO UPDATE SET "
    "state = excluded.state, problem = excluded.problem, message = excluded.message, "
    "since = excluded.since, checked_at = excluded.checked_at, "
    "metrics_json = excluded.metrics_json"
)
_INSERT_EVENTS = (
    "INSERT INTO events (host_id, at, kind, old_state, new_state, problem, message) "
    "VALUES (?, ?, 'state_change', ?, ?, ?, ?)"
)
_UPDATE_SYSTEM_INFO = "UPDATE hosts SET remote_hostname = ?, kernel = ?, os_name = ? WHERE id = ?"
_FORGET_CONTAINERS = "DELETE FROM containers WHERE host_id = ?"


def insert_checks(conn: Connection, rows: Sequence[Row]) -> None:
    """(host_id, checked_at, state, problem, message, duration_ms) rows, in one statement."""
    _executemany(conn, _INSERT_CHECKS, rows)


def insert_samples(conn: Connection, rows: Sequence[Row]) -> None:
    """(series_id, ts, value) rows, staged in one statement; a repeated (series, ts) is
    ignored."""
    staged_samples.insert(conn, rows)


def _executemany(conn: Connection, statement: str, rows: Sequence[Row]) -> None:
    # Plain DB-API executemany: no SQLAlchemy statement building per row, which matters on
    # the writer thread (it holds the GIL while it does so).
    if rows:
        conn.exec_driver_sql(statement, list(rows))


class ResultsWriter:
    """Batches a poll round into one transaction, each table written with one statement.
    Not thread-safe: use from one writer thread. ``record_incidents``: write container incidents
    as the Docker tracker reports them (one-off checks); off where the alerting owns the
    incidents (the service). Every ``staged_samples.MOVE_SECONDS`` a write also moves the
    staged samples to their series."""

    def __init__(
        self,
        engine: Engine,
        *,
        record_incidents: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._record_incidents = record_incidents
        self._monotonic = monotonic
        self._series_ids: dict[tuple[int, str], int] = {}
        self._older_series_ids: dict[tuple[int, str], int] = {}
        self._series_cache_turned_at = monotonic()
        self._moved_at = monotonic()

    @property
    def cached_series(self) -> int:
        return len(self._series_ids) + len(self._older_series_ids)

    def write(
        self,
        results: Sequence[tuple[int, CheckResult]],
        incidents: Sequence[tuple[int, ContainerIncident]] = (),
    ) -> list[StateChange]:
        return self.write_batch(results, incidents).changes

    def write_batch(
        self,
        results: Sequence[tuple[int, CheckResult]],
        incidents: Sequence[tuple[int, ContainerIncident]] = (),
    ) -> Written:
        if not results and not incidents:
            return Written([], [])
        self._turn_series_cache()
        changes: list[StateChange] = []
        rows = _Rows()
        with self._engine.begin() as conn:
            existing = {row[0]: row[1] for row in conn.execute(select(hosts.c.id, hosts.c.name))}
            kept = [(h, r) for h, r in results if h in existing]  # not removed while polled
            previous = _previous_status(conn, {host_id for host_id, _ in kept})
            for host_id, result in kept:
                rows.live.append(check_draft(host_id, result))
                rows.checks.append(
                    (
                        host_id,
                        result.checked_at,
                        result.state.value,
                        result.problem.value if result.problem else None,
                        result.message,
                        result.duration_ms,
                    )
                )
                change = _status(rows, host_id, result, previous)
                if change is not None:
                    changes.append(change)
                if result.system_info is not None:
                    info = result.system_info
                    rows.system_info.append((info.hostname, info.kernel, info.os_name, host_id))
                values = flatten(result.metrics) if result.metrics is not None else []
                if result.docker is not None:
                    self._write_docker(conn, rows, host_id, result)
                    self._record_docker_incidents(conn, rows, host_id, result)
                    if result.docker.containers:
                        values += flatten_containers(result.docker.containers)
                ts = result.checked_at
                rows.samples.extend(
                    (self._series_id(conn, host_id, metric), ts, value) for metric, value in values
                )
            for host_id, incident in incidents:
                if host_id in existing and self._record_incidents:
                    _record_incident(conn, rows, host_id, existing[host_id], incident)
            rows.execute(conn)
            live = live_log.append(conn, rows.live)
        if self._monotonic() - self._moved_at >= staged_samples.MOVE_SECONDS:
            self._moved_at = self._monotonic()
            staged_samples.move_staged(self._engine)
        return Written(changes, live)

    def _turn_series_cache(self) -> None:
        """What was not used since the previous turn is forgotten."""
        now = self._monotonic()
        if now - self._series_cache_turned_at >= SERIES_CACHE_SECONDS:
            self._older_series_ids = self._series_ids
            self._series_ids = {}
            self._series_cache_turned_at = now

    def _series_id(self, conn: Connection, host_id: int, metric: str) -> int:
        key = (host_id, metric)
        cached = self._series_ids.get(key)
        if cached is not None:
            return cached
        cached = self._older_series_ids.pop(key, None)
        if cached is not None:
            self._series_ids[key] = cached
            return cached
        conn.execute(
            sqlite_insert(series)
            .values(host_id=host_id, metric=metric)
            .on_conflict_do_nothing(index_elements=["host_id", "metric"])
        )
        series_id: int = conn.execute(
            select(series.c.id).where(series.c.host_id == host_id, series.c.metric == metric)
        ).scalar_one()
        self._series_ids[key] = series_id
        return series_id

    @staticmethod
    def _write_docker(conn: Connection, rows: _Rows, host_id: int, result: CheckResult) -> None:
        report = result.docker
        assert report is not None
        if report.containers is not None:
            rows.forget_containers.discard(host_id)
            replace_containers(conn, host_id, report.containers, result.checked_at)
        elif report.problem is None:
            rows.forget_containers.add(host_id)

    def _record_docker_incidents(
        self, conn: Connection, rows: _Rows, host_id: int, result: CheckResult
    ) -> None:
        assert result.docker is not None
        if self._record_incidents:
            for incident in result.docker.changes:
                _record_incident(conn, rows, host_id, result.host_name, incident)

    def forget_host(self, host_id: int) -> None:
        for cache in (self._series_ids, self._older_series_ids):
            for key in [k for k in cache if k[0] == host_id]:
                del cache[key]


@dataclass(slots=True)
class _Rows:
    """One batch's rows per table, written with one statement each."""

    checks: list[Row] = field(default_factory=list)
    status: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    system_info: list[Row] = field(default_factory=list)
    samples: list[Row] = field(default_factory=list)
    forget_containers: set[int] = field(default_factory=set)
    """Hosts found without Docker: every poll of such a host, so one statement for all."""
    live: list[LiveDraft] = field(default_factory=list)

    def execute(self, conn: Connection) -> None:
        insert_checks(conn, self.checks)
        _executemany(conn, _UPSERT_STATUS, self.status)
        _executemany(conn, _INSERT_EVENTS, self.events)
        _executemany(conn, _UPDATE_SYSTEM_INFO, self.system_info)
        insert_samples(conn, self.samples)
        _executemany(conn, _FORGET_CONTAINERS, [(h,) for h in sorted(self.forget_containers)])


def _record_incident(
    conn: Connection, rows: _Rows, host_id: int, host: str, incident: ContainerIncident
) -> None:
    if record_incident(conn, host_id, incident):
        event = "opened" if incident.opened else "resolved"
        if incident.replaces is not None:
            event = "updated"
        draft = live_log.incident_draft(
            conn, host_id, host, incident.kind.value, incident.subject, event=event, at=incident.at
        )
        if draft is not None:
            rows.live.append(draft)


_Previous = dict[int, tuple[str, str | None, int]]


def _previous_status(conn: Connection, host_ids: set[int]) -> _Previous:
    if not host_ids:
        return {}
    found = conn.execute(
        select(
            host_status.c.host_id, host_status.c.state, host_status.c.problem, host_status.c.since
        ).where(one_of(host_status.c.host_id, host_ids))
    )
    return {row.host_id: (row.state, row.problem, row.since) for row in found}


def _status(
    rows: _Rows, host_id: int, result: CheckResult, previous: _Previous
) -> StateChange | None:
    """Queue the host's new status (and a state-change event); ``previous`` is updated so
    that a second result of the same host in the batch compares with this one."""
    before = previous.get(host_id)
    new_state = result.state.value
    new_problem = result.problem.value if result.problem else None
    changed = before is None or (before[0], before[1]) != (new_state, new_problem)
    since = result.checked_at if changed or before is None else before[2]
    metrics_json = (
        json.dumps(metrics_to_json(result.metrics), separators=(",", ":"))
        if result.metrics is not None
        else None
    )
    rows.status.append(
        (host_id, new_state, new_problem, result.message, since, result.checked_at, metrics_json)
    )
    previous[host_id] = (new_state, new_problem, since)
    if not changed:
        return None
    old_state = before[0] if before is not None else None
    rows.events.append(
        (host_id, result.checked_at, old_state, new_state, new_problem, result.message)
    )
    rows.live.append(
        state_draft(
            host_id,
            result.host_name,
            result.checked_at,
            old_state=old_state,
            new_state=new_state,
            problem=new_problem,
            message=result.message,
        )
    )
    return StateChange(host_id, result.host_name, old_state, new_state, result.message)

"""Writing a round of poll results in one transaction: the check rows, the latest status,
state-change events and the metric samples."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.domain.containers import ContainerIncident
from vpshealth.domain.health import CheckResult
from vpshealth.domain.metrics_json import metrics_to_json
from vpshealth.domain.series import flatten, flatten_containers
from vpshealth.store.docker_repository import (
    forget_containers,
    record_incident,
    replace_containers,
)
from vpshealth.store.schema import checks, events, host_status, hosts, samples, series


@dataclass(frozen=True, slots=True)
class StateChange:
    host_id: int
    host_name: str
    old_state: str | None
    new_state: str
    message: str


class ResultsWriter:
    """Batches a poll round into one transaction. Not thread-safe: use from one writer
    thread. ``record_incidents``: write container incidents as the Docker tracker reports them
    (one-off checks); off where the alerting owns the incidents (the service)."""

    def __init__(self, engine: Engine, *, record_incidents: bool = True) -> None:
        self._engine = engine
        self._record_incidents = record_incidents
        self._series_ids: dict[tuple[int, str], int] = {}

    def write(
        self,
        results: Sequence[tuple[int, CheckResult]],
        incidents: Sequence[tuple[int, ContainerIncident]] = (),
    ) -> list[StateChange]:
        if not results and not incidents:
            return []
        changes: list[StateChange] = []
        sample_rows: list[dict[str, float | int]] = []
        with self._engine.begin() as conn:
            existing = set(conn.execute(select(hosts.c.id)).scalars())
            for host_id, result in results:
                if host_id not in existing:  # removed while the poll ran
                    continue
                conn.execute(
                    insert(checks).values(
                        host_id=host_id,
                        checked_at=result.checked_at,
                        state=result.state.value,
                        problem=result.problem.value if result.problem else None,
                        message=result.message,
                        duration_ms=result.duration_ms,
                    )
                )
                change = self._update_status(conn, host_id, result)
                if change is not None:
                    changes.append(change)
                if result.system_info is not None:
                    conn.execute(
                        update(hosts)
                        .where(hosts.c.id == host_id)
                        .values(
                            remote_hostname=result.system_info.hostname,
                            kernel=result.system_info.kernel,
                            os_name=result.system_info.os_name,
                        )
                    )
                values = flatten(result.metrics) if result.metrics is not None else []
                if result.docker is not None:
                    self._write_docker(conn, host_id, result, self._record_incidents)
                    if result.docker.containers:
                        values += flatten_containers(result.docker.containers)
                sample_rows.extend(
                    {
                        "series_id": self._series_id(conn, host_id, metric),
                        "ts": result.checked_at,
                        "value": value,
                    }
                    for metric, value in values
                )
            for host_id, incident in incidents:
                if host_id in existing and self._record_incidents:
                    record_incident(conn, host_id, incident)
            if sample_rows:
                conn.execute(
                    sqlite_insert(samples).on_conflict_do_nothing(
                        index_elements=["series_id", "ts"]
                    ),
                    sample_rows,
                )
        return changes

    def _series_id(self, conn: Connection, host_id: int, metric: str) -> int:
        key = (host_id, metric)
        cached = self._series_ids.get(key)
        if cached is not None:
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
    def _write_docker(
        conn: Connection, host_id: int, result: CheckResult, record_incidents: bool
    ) -> None:
        report = result.docker
        assert report is not None
        if report.containers is not None:
            replace_containers(conn, host_id, report.containers, result.checked_at)
        elif report.problem is None:
            forget_containers(conn, host_id)
        if record_incidents:
            for incident in report.changes:
                record_incident(conn, host_id, incident)

    def forget_host(self, host_id: int) -> None:
        for key in [k for k in self._series_ids if k[0] == host_id]:
            del self._series_ids[key]

    @staticmethod
    def _update_status(conn: Connection, host_id: int, result: CheckResult) -> StateChange | None:
        previous = conn.execute(
            select(host_status.c.state, host_status.c.problem, host_status.c.since).where(
                host_status.c.host_id == host_id
            )
        ).first()
        new_state = result.state.value
        new_problem = result.problem.value if result.problem else None
        changed = previous is None or (previous.state, previous.problem) != (
            new_state,
            new_problem,
        )
        since = result.checked_at if changed or previous is None else previous.since
        metrics_json = (
            json.dumps(metrics_to_json(result.metrics), separators=(",", ":"))
            if result.metrics is not None
            else None
        )
        values = {
            "state": new_state,
            "problem": new_problem,
            "message": result.message,
            "since": since,
            "checked_at": result.checked_at,
            "metrics_json": metrics_json,
        }
        conn.execute(
            sqlite_insert(host_status)
            .values(host_id=host_id, **values)
            .on_conflict_do_update(index_elements=["host_id"], set_=values)
        )
        if not changed:
            return None
        old_state = previous.state if previous is not None else None
        conn.execute(
            insert(events).values(
                host_id=host_id,
                at=result.checked_at,
                kind="state_change",
                old_state=old_state,
                new_state=new_state,
                problem=new_problem,
                message=result.message,
            )
        )
        return StateChange(host_id, result.host_name, old_state, new_state, result.message)

"""Acknowledging incidents: no more reminders until they resolve."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from vpshealth.clock import Clock
from vpshealth.errors import InputError
from vpshealth.operations.errors import NotFoundError
from vpshealth.store.incident_repository import IncidentRecord, IncidentRepository


class AckOutcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    ALREADY_ACKNOWLEDGED = "already acknowledged"
    UNKNOWN = "unknown"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AckResult:
    incident_id: int
    outcome: AckOutcome
    record: IncidentRecord | None


@dataclass(frozen=True, slots=True)
class Acknowledgements:
    results: list[AckResult]

    def error(self) -> InputError | None:
        """What the ids that could not be acknowledged were (NotFoundError when one is
        unknown); None when every one is acknowledged now."""
        problems = []
        for r in self.results:
            if r.outcome is AckOutcome.UNKNOWN:
                problems.append(f"there is no incident {r.incident_id}")
            elif r.outcome is AckOutcome.RESOLVED:
                problems.append(f"incident {r.incident_id} is already resolved")
        if not problems:
            return None
        message = "; ".join(problems).capitalize() + ". `vpshealth incidents --open` lists them."
        unknown = any(r.outcome is AckOutcome.UNKNOWN for r in self.results)
        return NotFoundError(message) if unknown else InputError(message)


class IncidentOperations:
    def __init__(self, incidents: IncidentRepository, clock: Clock) -> None:
        self._incidents = incidents
        self._clock = clock

    def acknowledge(self, ids: Iterable[int]) -> Acknowledgements:
        """Acknowledge each open incident of ``ids``; the others are left as they are."""
        now = int(self._clock.now())
        results = []
        for incident_id in ids:
            record = self._incidents.get(incident_id)
            if record is None:
                outcome = AckOutcome.UNKNOWN
            elif not record.is_open:
                outcome = AckOutcome.RESOLVED
            elif record.acknowledged_at is not None:
                outcome = AckOutcome.ALREADY_ACKNOWLEDGED
            elif self._incidents.acknowledge(incident_id, now):
                outcome = AckOutcome.ACKNOWLEDGED
            else:
                outcome = AckOutcome.RESOLVED
            results.append(AckResult(incident_id, outcome, record))
        return Acknowledgements(results)

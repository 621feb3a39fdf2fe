"""Ending a snooze keeps its row, ends it now and touches only its scope."""

from __future__ import annotations

from pathlib import Path

from vpshealth.domain.hosts import Host
from vpshealth.domain.silences import Silence, SilenceKind, silenced
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.silence_repository import SilenceRepository

NOW = 1_800_000_000


def test_ending_keeps_the_row_and_ends_only_that_scope(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "db.sqlite3")
    web = HostRepository(engine).add(Host(name="web1", address="192.0.2.1"))
    repo = SilenceRepository(engine)
    every = repo.snooze(None, NOW + 3600, NOW - 60)
    mine = repo.snooze(web, NOW + 3600, NOW - 60)
    window = repo.add_one_off(
        None, SilenceKind.MAINTENANCE, NOW - 60, NOW + 3600, now=NOW - 60, reason="upgrade"
    )

    assert repo.end_snoozes(None, NOW) == 1
    assert repo.end_snoozes(None, NOW) == 0, "nothing left to end"
    assert [s.id for s in repo.current(NOW)] == [mine, window]
    assert repo.snoozed_until(NOW) is None
    assert repo.end_snoozes(web, NOW + 10) == 1
    assert not silenced([s for s in repo.current(NOW + 10) if s.id != window], web, NOW + 10)

    kept = {s.id: s for s in _all(repo)}
    assert (kept[every].starts_at, kept[every].ends_at) == (NOW - 60, NOW)
    assert (kept[mine].starts_at, kept[mine].ends_at) == (NOW - 60, NOW + 10)
    assert kept[window].ends_at == NOW + 3600, "a maintenance window is not a snooze"


def _all(repo: SilenceRepository) -> list[Silence]:
    return repo.current(0)  # every row ends after 0

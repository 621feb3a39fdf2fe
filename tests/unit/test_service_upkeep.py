"""The service's history upkeep folds, rolls up and prunes the history with the retention from
the settings, on the recorder's writer thread."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.unit.history_support import HOUR, T0, add_host, add_series, insert_samples, sawtooth
from tests.unit.test_secrets import MemoryKeyring
from vpshealth.app import Core
from vpshealth.config import Paths, Settings
from vpshealth.engine.history_upkeep import HistoryUpkeep
from vpshealth.engine.recorder import Recorder
from vpshealth.secrets import SecretStore
from vpshealth.store.compaction import count_rows
from vpshealth.store.database import open_database
from vpshealth.store.maintenance import Retention
from vpshealth.store.rollups import HOUR as HOUR_RESOLUTION
from vpshealth.store.rollups import MINUTE, done_until


class FixedClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def test_the_upkeep_rolls_up_and_applies_the_retention(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, raw_retention_hours=2)
    paths = Paths.from_settings(settings)
    paths.ensure()
    engine = open_database(paths.database)
    now = T0 + 6 * HOUR + 150  # rolled up a whole 6-hour block at a time
    core = Core(settings, paths, engine, SecretStore(MemoryKeyring()), clock=FixedClock(now))
    cpu = add_series(engine, add_host(engine), "cpu.percent")
    insert_samples(engine, cpu, sawtooth(T0, T0 + 6 * HOUR, 10))
    recorder = Recorder(core.results_writer(record_incidents=False))
    upkeep = HistoryUpkeep(
        engine, Retention.from_settings(settings), core.clock, recorder.run_in_writer
    )
    task = asyncio.create_task(upkeep.run())
    try:
        async with asyncio.timeout(60):
            while done_until(engine, HOUR_RESOLUTION) is None or count_rows(engine)[1] > 2 * 360:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        recorder.close()
        engine.dispose()
    assert done_until(engine, MINUTE) == T0 + 6 * HOUR
    assert count_rows(engine) == (0, 2 * 360)  # the 2 newest hours of raw samples

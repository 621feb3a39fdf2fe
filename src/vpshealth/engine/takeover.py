"""The check service a desktop runs while it takes over from its silent node: the copy's
hosts this computer can log in to, checked into a database of their own
(``takeover.sqlite3``), alerting with this computer's own e-mail and channels. Built by
``app.py``; started and stopped by ``operations.takeover.TakeoverSupervisor``."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from vpshealth.clock import Clock
from vpshealth.domain.takeover import HandedBack, TakeoverPlan, choose_hosts
from vpshealth.engine.service import Service
from vpshealth.secrets import SecretStore
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.takeover_mirror import handed_back, mirror_into

log = logging.getLogger(__name__)


class TakeoverChecks:
    """``prepare`` (blocking) fills the takeover database from the copy; ``run`` checks until
    ``stop``; ``handed_back`` (blocking) is what to tell the node afterwards."""

    def __init__(
        self,
        path: Path,
        home: Engine,
        secrets: SecretStore,
        clock: Clock,
        build_service: Callable[[Engine], Service],
    ) -> None:
        self._path = path
        self._home = home
        self._secrets = secrets
        self._clock = clock
        self._build_service = build_service
        self._engine: Engine | None = None
        self._service: Service | None = None
        self._since = 0

    def prepare(self, copy: Engine) -> TakeoverPlan:
        records = HostRepository(copy).list()
        plan = choose_hosts(
            [(r.id, r.host) for r in records],
            self._has_secret,
            agent=bool(os.environ.get("SSH_AUTH_SOCK")),
        )
        self.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self._path}{suffix}").unlink()
        self._engine = open_database(self._path)
        seeded = mirror_into(self._engine, copy, self._home, plan.checked_ids)
        self._since = int(self._clock.now())
        log.info("Taking over: %d of %d hosts checked here, %d open incidents seeded",
                 len(plan.checked), plan.total, seeded)  # fmt: skip
        return plan

    def _has_secret(self, ref: str) -> bool:
        try:
            return self._secrets.get(ref) is not None
        except Exception:
            return False

    async def run(self) -> None:
        assert self._engine is not None, "prepare first"
        self._service = self._build_service(self._engine)
        await self._service.run()

    def stop(self) -> None:
        if self._service is not None:
            self._service.request_stop()

    def handed_back(self) -> list[HandedBack]:
        return [] if self._engine is None else handed_back(self._engine, self._since)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

"""One answer to "is this host bad?": a stored rule moves the host's state in `check`,
`host list`, the tray and the overview, and the incidents the service opens, together.

The host is this computer (the embedded default, read from /proc); every level out of its
reach but the one rule the test changes, so a busy test machine cannot move the state."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_secrets import MemoryKeyring
from vpshealth.app import Core, build_core
from vpshealth.cli.main import main
from vpshealth.config import Settings
from vpshealth.domain.health import HostState
from vpshealth.domain.hosts import LOCAL_HOST_NAME
from vpshealth.gui.tray_state import tray_state
from vpshealth.secrets import SecretStore
from vpshealth.store.incident_repository import IncidentRepository
from vpshealth.store.rule_repository import RuleRepository

LOAD_OUT_OF_REACH = {"load.warning": 1000.0, "load.critical": 1000.0}


@pytest.fixture
def core(cli_home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The percent levels start above 100 % (from the environment, for this process's Core
    and the in-process CLI's), the load's are stored as the defaults."""
    monkeypatch.setenv("VPSHEALTH_WARNING_PERCENT", "1000")
    monkeypatch.setenv("VPSHEALTH_CRITICAL_PERCENT", "1000")
    built = build_core(Settings(), secrets=SecretStore(MemoryKeyring()))
    RuleRepository(built.engine).update(None, LOAD_OUT_OF_REACH, int(time.time()))
    yield built
    built.close()


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    main(list(argv))
    out, _ = capsys.readouterr()
    data: dict[str, Any] = json.loads(out)
    return data


def _faces(core: Core, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """The local host's state as each face shows it."""
    checked = _cli_json(capsys, "check", LOCAL_HOST_NAME, "--json")["hosts"][0]
    listed = _cli_json(capsys, "host", "list", "--json")["hosts"][0]
    records = core.hosts.list()
    fleet = core.read_model.fleet(int(time.time()))
    return {
        "check --json": checked["state"],
        "host list": listed["state"],
        "tray": tray_state(records).kind.value,
        "overview": fleet.states()[records[0].id].value,
    }


def _open_incidents(core: Core) -> list[tuple[str, str]]:
    return [(i.rule, i.severity) for i in IncidentRepository(core.engine).list() if i.is_open]


async def _service_until(core: Core, done: Callable[[], bool]) -> None:
    service = core.build_service()
    task = asyncio.create_task(service.run())
    try:
        async with asyncio.timeout(60):
            while not await asyncio.to_thread(done):
                await asyncio.sleep(0.2)
    finally:
        service.request_stop()
        await task


def test_a_stored_rule_moves_every_face_and_the_incidents_together(
    core: Core, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["host", "edit", LOCAL_HOST_NAME, "--interval", "5"]) == 0
    capsys.readouterr()
    assert set(_faces(core, capsys).values()) == {HostState.OK.value}

    # the root filesystem of any machine is more than 1 % full
    main(["rules", LOCAL_HOST_NAME, "--set", "disk.warning=1"])
    capsys.readouterr()
    assert _faces(core, capsys) == dict.fromkeys(
        ("check --json", "host list", "tray", "overview"), HostState.WARNING.value
    )
    asyncio.run(_service_until(core, lambda: ("disk", "warning") in _open_incidents(core)))
    assert {rule for rule, _ in _open_incidents(core)} == {"disk"}
    status = core.hosts.get(LOCAL_HOST_NAME).status
    assert status is not None
    assert status.state is HostState.WARNING

    main(["rules", LOCAL_HOST_NAME, "--reset", "disk.warning"])
    capsys.readouterr()
    asyncio.run(_service_until(core, lambda: not _open_incidents(core)))
    assert set(_faces(core, capsys).values()) == {HostState.OK.value}

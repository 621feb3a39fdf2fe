"""The dead man's switch: the URL in the secret store (only a reference and the period in the
database), bad input named by its field, and the worker pinging every period, a failure logged
and tried again next round."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.unit.fake_clock import FakeClock
from vpshealth.app import Core, build_core, heartbeat_operations
from vpshealth.config import Settings
from vpshealth.domain.heartbeat import HeartbeatTarget
from vpshealth.engine.heartbeat import Heartbeat
from vpshealth.operations.errors import FieldError
from vpshealth.operations.heartbeat import HEARTBEAT_KEY
from vpshealth.secrets import SecretStore

from .operations_support import MemoryKeyring

URL = "https://hc-ping.com/0b7e7b4c-1a2b-4c3d-9e8f-123456789abc"


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    built = build_core(Settings(home=tmp_path / "home"), secrets=SecretStore(MemoryKeyring()))
    built.clock = FakeClock()
    try:
        yield built
    finally:
        built.close()


def test_set_keeps_the_url_in_the_secret_store_and_shows_it_masked(core: Core) -> None:
    ops = heartbeat_operations(core)

    shown = ops.set(URL, 300)

    assert shown.masked_url == "https://hc-ping.com/0…c"
    stored = core.stored_settings.get(HEARTBEAT_KEY)
    assert stored["every"] == 300
    assert "hc-ping" not in str(stored)
    assert core.secrets.get(stored["url_ref"]) == URL
    assert ops.target() == HeartbeatTarget(URL, 300, "https://hc-ping.com/0…c")
    ops.set(URL + "0", 600)
    assert core.secrets.get(stored["url_ref"]) is None  # the earlier one is gone
    assert ops.off() is True
    assert ops.show() is None
    assert ops.off() is False


@pytest.mark.parametrize(
    ("url", "every", "field"),
    [("ftp://x", 300, "url"), ("", 300, "url"), ("https://", 300, "url"), (URL, 5, "every")],
)
def test_bad_input_names_the_field_and_saves_nothing(
    core: Core, url: str, every: int, field: str
) -> None:
    with pytest.raises(FieldError) as raised:
        heartbeat_operations(core).set(url, every)
    assert raised.value.field == field
    assert core.stored_settings.get(HEARTBEAT_KEY) is None


async def test_the_worker_pings_every_period_and_a_failure_waits_for_the_next_round(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers = iter([httpx.ConnectError("refused"), 200, 500, 200])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    clock = FakeClock(0.0)
    target = HeartbeatTarget(URL, 60, "masked")
    beat = Heartbeat(lambda: target, clock)
    transport = httpx.MockTransport(handler)
    caplog.set_level(logging.WARNING, "vpshealth.engine.heartbeat")

    async def rounds() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(4):
                await beat.ping(client, target)

    await asyncio.wait_for(rounds(), 5)

    assert (beat.pings, beat.failures) == (2, 2)
    assert seen == [URL] * 4
    assert "masked did not answer (ConnectError)" in caplog.text
    assert "masked answered HTTP 500" in caplog.text
    assert URL not in caplog.text

"""The second opinion: a failed check of an imported host asks Hetzner Cloud in the background,
once a minute per project at most, and the next failed checks carry the reason."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from tests.integration.support.hetzner_api import FakeServer, HetznerApi
from tests.unit.operations_support import MemoryKeyring, make_core
from vpshealth.app import Core
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.engine.hetzner_opinion import SecondOpinion
from vpshealth.operations.login_keys import generated_key
from vpshealth.store.hetzner_repository import HetznerRepository


class StepClock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def api() -> Iterator[HetznerApi]:
    api = HetznerApi()
    api.servers = [
        FakeServer(101, "web1", status="off", ipv4="127.0.0.11"),
        FakeServer(102, "web2", ipv4="127.0.0.12"),
        FakeServer(103, "web3", ipv4="127.0.0.13", rescue_enabled=True),
    ]
    yield api
    api.close()


@pytest.fixture
def core(tmp_path: Path, api: HetznerApi) -> Iterator[Core]:
    core = make_core(tmp_path, MemoryKeyring())
    core.operations.hetzner.add_project("web", api.token, api.endpoint)
    core.operations.hetzner.import_servers("web", generated_key("k"))
    api.requests.clear()
    yield core
    core.close()


def failed(name: str, problem: Problem = Problem.UNREACHABLE) -> CheckResult:
    return CheckResult(name, 0, HostState.UNREACHABLE, problem, "connection refused")


def ids(core: Core) -> dict[str, int]:
    return {name: host_id for host_id, name in core.operations.hosts.names().items()}


async def test_the_reason_reaches_the_checks_after_one_list_call(
    core: Core, api: HetznerApi
) -> None:
    clock = StepClock()
    opinion = SecondOpinion(HetznerRepository(core.engine), core.secrets, clock)
    host = ids(core)
    await opinion.step()  # reads the imported hosts; nothing failed yet, nothing asked
    assert api.requests == []
    first = opinion.annotate(host["web1"], failed("web1"))
    assert first.message == "connection refused", "the check does not wait for the API"
    opinion.annotate(host["web2"], failed("web2"))
    await opinion.step()
    assert len(api.requests) == 1
    assert opinion.annotate(host["web1"], failed("web1")).message == (
        "powered off (Hetzner Cloud): connection refused"
    )
    assert opinion.annotate(host["web2"], failed("web2")).message == "connection refused"
    rescue = opinion.annotate(host["web3"], failed("web3", Problem.HOST_KEY_MISMATCH)).message
    assert rescue.startswith("in rescue mode (Hetzner Cloud): the rescue system has a host key")


async def test_a_project_is_asked_at_most_once_a_minute(core: Core, api: HetznerApi) -> None:
    clock = StepClock()
    opinion = SecondOpinion(HetznerRepository(core.engine), core.secrets, clock)
    host = ids(core)["web2"]
    await opinion.step()
    for _ in range(120):  # two minutes of a failing check every second
        opinion.annotate(host, failed("web2"))
        await opinion.step()
        clock.t += 1
    assert opinion.requests == 2
    assert len(api.requests) == 2


async def test_working_hosts_and_other_problems_ask_nothing(core: Core, api: HetznerApi) -> None:
    opinion = SecondOpinion(HetznerRepository(core.engine), core.secrets, StepClock())
    host = ids(core)
    await opinion.step()
    ok = CheckResult("web1", 0, HostState.OK, None, "All good")
    local = ids(core)["localhost"]
    assert opinion.annotate(host["web1"], ok) is ok
    opinion.annotate(host["web1"], failed("web1", Problem.PARSE_ERROR))
    opinion.annotate(local, failed("localhost"))
    await opinion.step()
    assert api.requests == []


async def test_a_429_never_delays_a_check_and_waits_for_the_reset(
    core: Core, api: HetznerApi
) -> None:
    clock = StepClock()
    opinion = SecondOpinion(HetznerRepository(core.engine), core.secrets, clock)
    host = ids(core)["web1"]
    await opinion.step()
    api.exhaust()
    opinion.annotate(host, failed("web1"))
    await opinion.step()
    assert len(api.requests) == 1
    for _ in range(300):
        assert opinion.annotate(host, failed("web1")).message == "connection refused"
        await opinion.step()
        clock.t += 1
    assert len(api.requests) == 1, "no second request before RateLimit-Reset"


async def test_an_api_outage_never_delays_a_check(core: Core, api: HetznerApi) -> None:
    clock = StepClock()
    opinion = SecondOpinion(HetznerRepository(core.engine), core.secrets, clock)
    host = ids(core)["web1"]
    await opinion.step()
    api.close()
    opinion.annotate(host, failed("web1"))
    await asyncio.wait_for(opinion.step(), 15)
    assert opinion.requests == 1
    assert opinion.annotate(host, failed("web1")).message == "connection refused"


async def test_a_server_gone_from_the_project_is_named_deleted(core: Core, api: HetznerApi) -> None:
    clock = StepClock()
    opinion = SecondOpinion(HetznerRepository(core.engine), core.secrets, clock)
    host = ids(core)["web2"]
    api.servers = [s for s in api.servers if s.id != 102]
    await opinion.step()
    opinion.annotate(host, failed("web2"))
    await opinion.step()
    assert opinion.annotate(host, failed("web2")).message == (
        "deleted from the project web (Hetzner Cloud): connection refused"
    )


async def test_a_one_off_check_asks_once_and_stores_the_reason(core: Core, api: HetznerApi) -> None:
    """``vpshealth check``'s path: nothing listens on the imported addresses, so the checks
    fail at once, and the one list call names web1 as powered off before they are stored."""
    pinned = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    for name in ("web1", "web2"):
        core.operations.hosts.edit(name, {}, host_key=pinned)
    records = [core.hosts.get("web1"), core.hosts.get("web2")]
    results = await core.check_once(records)
    assert len(api.requests) == 1
    assert results[0].message.startswith("powered off (Hetzner Cloud): ")
    assert results[1].state is HostState.UNREACHABLE
    assert "Hetzner" not in results[1].message
    stored = core.hosts.get("web1").status
    assert stored is not None
    assert stored.message.startswith("powered off (Hetzner Cloud): ")


async def test_a_one_off_check_of_a_working_or_unimported_host_asks_nothing(
    core: Core, api: HetznerApi
) -> None:
    opinion = SecondOpinion(HetznerRepository(core.engine), core.secrets, StepClock())
    ok = CheckResult("web1", 0, HostState.OK, None, "All good")
    local = ids(core)["localhost"]
    explained = await opinion.explain([(ids(core)["web1"], ok), (local, failed("localhost"))])
    assert explained == [ok, failed("localhost")]
    assert api.requests == []

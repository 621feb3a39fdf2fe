"""GET /api/v1/hosts/{name}/history?container=...: an app's series across its deploys, as
`vpshealth history --container` reads it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.unit.fake_clock import FakeClock
from tests.unit.test_store import make_metrics
from vpshealth.api.app import create_app
from vpshealth.app import Core, build_core
from vpshealth.config import Settings
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    DockerReport,
)
from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.hosts import Host
from vpshealth.engine.status import EngineStatus
from vpshealth.read_model.container_series import with_identity

NOW = 1_800_000_000
UUID = "tgw4s0kc0w88kso8g0gc8c0o"
LABELS = {
    "coolify.managed": "true",
    "coolify.type": "application",
    "coolify.projectName": "shop",
    "coolify.environmentName": "production",
    "coolify.resourceName": "web",
    "coolify.pullRequestId": "0",
    "com.docker.compose.project": UUID,
}


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    built = build_core(Settings(home=tmp_path))
    built.clock = FakeClock(float(NOW))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    context = core.api_context(EngineStatus(running=True, started_at=NOW, poll_timeout=10))
    token = context.tokens.create("tests").token
    with TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def _deploy(name: str, memory: int) -> ContainerView:
    container = Container(
        id=f"id-{name}",
        name=name,
        image="web",
        created=NOW - 900,
        state=ContainerState.RUNNING,
        labels=tuple(sorted(LABELS.items())),
    )
    return ContainerView(with_identity(container), ContainerMetrics(1.0, memory, None))


@pytest.fixture
def web(core: Core) -> int:
    host_id = core.hosts.add(Host(name="web1", address="192.0.2.1"))
    writer = core.results_writer()
    for ago, name, memory in ((600, f"{UUID}-101010000001", 10), (300, f"{UUID}-202020000002", 20)):
        check = CheckResult("web1", NOW - ago, HostState.OK, None, "ok", make_metrics())
        report = DockerReport(containers=(_deploy(name, memory),))
        writer.write([(host_id, dataclasses.replace(check, docker=report))])
    return host_id


def test_history_of_an_app_across_its_deploys(client: TestClient, web: int) -> None:
    answer = client.get(
        "/api/v1/hosts/web1/history",
        params={"metric": "memory", "container": "shop/production/web"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["metric"] == f"container.memory_bytes:coolify/{UUID}"
    assert [(p["ts"], p["value"]) for p in body["points"]] == [(NOW - 600, 10.0), (NOW - 300, 20.0)]


def test_an_unknown_container_or_metric_names_the_field(client: TestClient, web: int) -> None:
    unknown = client.get(
        "/api/v1/hosts/web1/history", params={"metric": "cpu", "container": "shop/staging/web"}
    )
    assert unknown.status_code == 422
    [error] = unknown.json()["errors"]
    assert error["field"] == "container"
    assert "web1" in error["message"]
    assert "shop/production/web" in error["message"]
    load = client.get(
        "/api/v1/hosts/web1/history", params={"metric": "load", "container": "shop/production/web"}
    )
    assert load.status_code == 422
    assert load.json()["errors"][0]["field"] == "metric"

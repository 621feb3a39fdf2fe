"""GET /metrics in-process: the exposition of a small fleet, parsed as Prometheus parses it,
and who may scrape it (the real Prometheus is in tests/integration/test_prometheus_scrape.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import Engine, insert

from tests.unit.fake_clock import FakeClock
from vpshealth.api.app import create_app
from vpshealth.api.context import ApiContext
from vpshealth.app import read_model_on
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    DockerReport,
)
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    SwapUsage,
    SystemInfo,
)
from vpshealth.engine.loop_lag import LoopLagMonitor
from vpshealth.engine.status import EngineStatus
from vpshealth.operations.api_tokens import ApiTokens
from vpshealth.store.api_token_repository import ApiTokenRepository
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.results_writer import ResultsWriter
from vpshealth.store.schema import incidents

NOW = 1_800_000_000
GIB = 1024**3


def web_metrics() -> HostMetrics:
    return HostMetrics(
        cpu_percent=37.5,
        cpu_count=4,
        load=LoadAverage(1.5, 1.25, 0.75),
        memory=MemoryUsage(total_bytes=8 * GIB, available_bytes=2 * GIB),
        swap=SwapUsage(total_bytes=GIB, free_bytes=GIB // 2),
        uptime_seconds=3600.0,
        disks=(
            DiskUsage("/", "ext4", 100 * GIB, 60 * GIB, 20 * GIB),
            DiskUsage("/data", "xfs", 500 * GIB, 50 * GIB, 450 * GIB),
        ),
    )


def container(name: str, state: ContainerState) -> ContainerView:
    return ContainerView(
        Container(id=name * 8, name=name, image="nginx", created=NOW - 100, state=state),
        ContainerMetrics(None, None, None),
    )


def fill(engine: Engine) -> None:
    """web1: ok with Docker (2 running, 1 restarting); db1: unreachable; old1: disabled."""
    repo = HostRepository(engine)
    web = repo.add(Host(name="web1", address="203.0.113.10"))
    db = repo.add(Host(name="db1", address="203.0.113.11"))
    old = repo.add(Host(name="old1", address="203.0.113.12", enabled=False))
    docker = DockerReport(
        (
            container("shop", ContainerState.RUNNING),
            container("api", ContainerState.RUNNING),
            container("worker", ContainerState.RESTARTING),
        )
    )
    ok = CheckResult(
        "web1",
        NOW - 20,
        HostState.OK,
        None,
        "All good",
        web_metrics(),
        SystemInfo("web1.example", "6.1.0-18-amd64", "Debian GNU/Linux 12 (bookworm)"),
        duration_ms=40,
        docker=docker,
    )
    down = CheckResult("db1", NOW - 5, HostState.UNREACHABLE, Problem.UNREACHABLE, "refused")
    stale = CheckResult("old1", NOW - 9000, HostState.OK, None, "All good", web_metrics())
    ResultsWriter(engine).write([(web, ok), (db, down), (old, stale)])
    with engine.begin() as conn:
        for n, (severity, resolved) in enumerate(
            (("critical", None), ("critical", None), ("warning", NOW))
        ):
            conn.execute(
                insert(incidents).values(
                    host_id=web,
                    kind="high_cpu",
                    subject=f"subject-{n}",
                    container_id="",
                    container_name="",
                    severity=severity,
                    opened_at=NOW - 60,
                    resolved_at=resolved,
                    message="CPU high",
                )
            )


@pytest.fixture
def context(tmp_path: Path) -> ApiContext:
    engine = open_database(tmp_path / "db.sqlite3")
    fill(engine)
    clock = FakeClock(float(NOW))
    status = EngineStatus(running=True, started_at=NOW - 600, last_result_at=NOW - 5, hosts=3)
    status.poll_durations.observe(0.04)
    status.poll_durations.observe(0.3)
    status.poll_durations.failed = 2
    lag = LoopLagMonitor()
    lag.record(due=100.0, woke=100.25)
    lag.record(due=100.75, woke=100.76)
    return ApiContext(
        read_model=read_model_on(engine),
        tokens=ApiTokens(ApiTokenRepository(engine), clock),
        engine=status,
        clock=clock,
        loop_lag=lag,
    )


@pytest.fixture
def client(context: ApiContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr("vpshealth.api.auth.FIRST_DELAY", 0.0)
    with TestClient(create_app(context)) as client:
        yield client


def scrape(client: TestClient, context: ApiContext) -> dict[str, list[Sample]]:
    token = context.tokens.create("prometheus", read_only=True).token
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def values(samples: list[Sample], *label_names: str) -> dict[tuple[str, ...], float]:
    return {tuple(s.labels[n] for n in label_names): s.value for s in samples}


def test_every_enabled_host_has_up_state_and_its_last_metrics(
    client: TestClient, context: ApiContext
) -> None:
    s = scrape(client, context)
    assert values(s["vpshealth_host_up"], "host") == {("web1",): 1.0, ("db1",): 0.0}
    states = values(s["vpshealth_host_state"], "host", "state")
    assert states[("web1", "ok")] == 1.0
    assert states[("web1", "critical")] == 0.0
    assert states[("db1", "unreachable")] == 1.0
    assert sum(v for (host, _), v in states.items() if host == "db1") == 1.0
    assert not any(host == "old1" for host, _ in states)
    assert values(s["vpshealth_host_cpu_percent"], "host") == {("web1",): 37.5}
    assert values(s["vpshealth_host_load1"], "host") == {("web1",): 1.5}
    assert values(s["vpshealth_host_load15"], "host") == {("web1",): 0.75}
    assert values(s["vpshealth_host_memory_percent"], "host") == {("web1",): 75.0}
    assert values(s["vpshealth_host_memory_total_bytes"], "host") == {("web1",): 8 * GIB}
    assert values(s["vpshealth_host_disk_used_percent"], "host", "mount") == {
        ("web1", "/"): 75.0,
        ("web1", "/data"): 10.0,
    }
    assert values(s["vpshealth_host_disk_size_bytes"], "host", "mount")[("web1", "/")] == 100 * GIB
    assert values(s["vpshealth_host_last_check_timestamp_seconds"], "host") == {
        ("web1",): NOW - 20,
        ("db1",): NOW - 5,
    }
    info = {sample.labels["host"]: sample.labels for sample in s["vpshealth_host_info"]}
    assert info["web1"]["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert info["web1"]["kind"] == "ssh"
    assert set(info) == {"localhost", "web1", "db1"}
    assert s["vpshealth_hosts"][0].value == 3


def test_containers_by_state_and_open_incidents_by_severity(
    client: TestClient, context: ApiContext
) -> None:
    s = scrape(client, context)
    containers = values(s["vpshealth_containers"], "host", "state")
    assert containers[("web1", "running")] == 2
    assert containers[("web1", "restarting")] == 1
    assert containers[("web1", "exited")] == 0
    assert {host for host, _ in containers} == {"web1"}
    assert values(s["vpshealth_open_incidents"], "severity") == {
        ("critical",): 2,
        ("warning",): 0,
    }


def test_the_engine_its_poll_durations_and_its_loop_lag(
    client: TestClient, context: ApiContext
) -> None:
    s = scrape(client, context)
    assert s["vpshealth_engine_up"][0].value == 1
    assert s["vpshealth_last_poll_age_seconds"][0].value == 5
    buckets = values(s["vpshealth_poll_duration_seconds_bucket"], "le")
    assert buckets[("0.025",)] == 0
    assert buckets[("0.05",)] == 1
    assert buckets[("0.5",)] == 2
    assert buckets[("+Inf",)] == 2
    assert s["vpshealth_poll_duration_seconds_count"][0].value == 2
    assert s["vpshealth_poll_duration_seconds_sum"][0].value == pytest.approx(0.34)
    assert s["vpshealth_failed_polls_total"][0].value == 2
    assert s["vpshealth_event_loop_lag_seconds"][0].value == pytest.approx(0.01)
    assert s["vpshealth_event_loop_lag_max_seconds"][0].value == pytest.approx(0.25)


def test_before_the_first_poll_there_is_no_poll_age_nor_loop_lag(
    client: TestClient, context: ApiContext
) -> None:
    object.__setattr__(context, "loop_lag", LoopLagMonitor())
    context.engine.last_result_at = None
    s = scrape(client, context)
    assert "vpshealth_last_poll_age_seconds" not in s
    assert "vpshealth_event_loop_lag_seconds" not in s
    assert s["vpshealth_poll_duration_seconds_count"][0].value == 2


def test_metrics_need_a_token_unless_opened(client: TestClient, context: ApiContext) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer vph_wrong"}).status_code == 401
    object.__setattr__(context, "metrics_open", True)
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert "vpshealth_host_up" in answer.text


def test_the_loop_lag_keeps_a_minute_of_readings() -> None:
    lag = LoopLagMonitor(every=0.5, window=60.0)
    lag.record(due=10.0, woke=10.4)
    lag.record(due=10.9, woke=10.9)
    assert (lag.last_seconds, lag.max_seconds) == (0.0, pytest.approx(0.4))
    lag.record(due=71.0, woke=71.02)
    assert lag.last_seconds == pytest.approx(0.02)
    assert lag.max_seconds == pytest.approx(0.02)


def test_the_loop_lag_monitor_sees_a_blocked_loop() -> None:
    lag = LoopLagMonitor(every=0.05)

    async def block_once() -> None:
        task = asyncio.create_task(lag.run())
        await asyncio.sleep(0.02)
        time.sleep(0.2)
        await asyncio.sleep(0.1)
        task.cancel()

    asyncio.run(block_once())
    assert lag.max_seconds is not None
    assert lag.max_seconds >= 0.1
    assert lag.last_seconds is not None
    assert lag.last_seconds < 0.1


def test_a_failed_poll_is_counted_and_not_timed() -> None:
    durations = EngineStatus().poll_durations
    durations.record(CheckResult("db1", NOW, HostState.UNREACHABLE, Problem.TIMEOUT, "timed out"))
    durations.record(
        CheckResult("web1", NOW, HostState.OK, None, "All good", web_metrics(), duration_ms=1500)
    )
    histogram = durations.histogram()
    assert durations.failed == 1
    assert histogram.count == 1
    assert dict(histogram.buckets)[1.0] == 0
    assert dict(histogram.buckets)[2.5] == 1


def test_the_openapi_document_shows_the_exposition_format(client: TestClient) -> None:
    route = client.get("/api/v1/openapi.json").json()["paths"]["/metrics"]["get"]
    assert "text/plain; version=0.0.4; charset=utf-8" in route["responses"]["200"]["content"]
    assert "401" in route["responses"]

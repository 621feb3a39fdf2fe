"""The API's tokens and health answer, in-process (Starlette's test client over ASGI; the
real uvicorn is in tests/integration/test_api_service.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.unit.fake_clock import FakeClock
from vpshealth.api.app import create_app
from vpshealth.api.auth import MAX_DELAY, FailedLogins, Writer
from vpshealth.api.context import ApiContext
from vpshealth.app import read_model_on
from vpshealth.engine.status import EngineStatus
from vpshealth.operations.api_tokens import ApiTokens
from vpshealth.store.api_token_repository import ApiTokenRepository
from vpshealth.store.database import open_database


@pytest.fixture
def context(tmp_path: Path) -> ApiContext:
    engine = open_database(tmp_path / "db.sqlite3")
    clock = FakeClock(1_800_000_000.0)
    return ApiContext(
        read_model=read_model_on(engine),
        tokens=ApiTokens(ApiTokenRepository(engine), clock),
        engine=EngineStatus(running=True, started_at=clock.now(), poll_timeout=10),
        clock=clock,
    )


@pytest.fixture
def app(context: ApiContext, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr("vpshealth.api.auth.FIRST_DELAY", 0.0)
    app = create_app(context)

    @app.post("/test-write")
    def write(_token: Writer) -> dict[str, bool]:
        return {"written": True}

    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_needs_no_token_and_says_how_old_the_last_poll_is(
    client: TestClient, context: ApiContext
) -> None:
    context.engine.hosts = 2
    assert client.get("/api/v1/health").json()["status"] == "starting"
    context.engine.last_result_at = context.clock.now() - 12
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "engine_running": True,
        "last_poll_age_seconds": 12.0,
        "hosts": 2,
    }


def test_health_is_503_when_the_checks_stopped_or_stalled(
    client: TestClient, context: ApiContext
) -> None:
    context.engine.hosts = 1
    context.engine.longest_interval = 60
    context.engine.last_result_at = context.clock.now() - 3 * 60 - 11
    assert client.get("/api/v1/health").status_code == 503
    assert client.get("/api/v1/health").json()["status"] == "stale"
    context.engine.running = False
    assert client.get("/api/v1/health").json()["status"] == "stopped"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("vph_wrong"),
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
    ids=["none", "wrong", "basic", "empty"],
)
def test_a_missing_or_wrong_token_gets_401_without_detail(
    client: TestClient,
    context: ApiContext,
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    context.tokens.create("laptop")
    answer = client.get("/api/v1/hosts", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {"detail": "A valid bearer token is required."}
    assert "token from testclient" in caplog.text


def test_a_good_token_reads(client: TestClient, context: ApiContext) -> None:
    token = context.tokens.create("laptop", read_only=True).token
    answer = client.get("/api/v1/hosts", headers=bearer(token))
    assert answer.status_code == 200
    assert [h["name"] for h in answer.json()["hosts"]] == ["localhost"]


def test_a_read_only_token_that_writes_gets_403(client: TestClient, context: ApiContext) -> None:
    read_only = context.tokens.create("viewer", read_only=True).token
    writer = context.tokens.create("admin").token
    refused = client.post("/test-write", headers=bearer(read_only))
    assert refused.status_code == 403
    assert "read-only" in refused.json()["detail"]
    assert client.post("/test-write", headers=bearer(writer)).json() == {"written": True}
    assert client.post("/test-write").status_code == 401


def test_failed_logins_from_one_peer_wait_longer_each_time_up_to_a_limit() -> None:
    failed = FailedLogins()
    delays = [failed.delay("10.0.0.1", now=100.0 + i) for i in range(8)]
    assert delays == sorted(delays)
    assert delays[0] < delays[3]
    assert delays[-1] == MAX_DELAY
    assert failed.delay("10.0.0.2", now=110.0) == delays[0]
    failed.clear("10.0.0.1")
    assert failed.delay("10.0.0.1", now=111.0) == delays[0]
    assert failed.delay("10.0.0.2", now=111.0 + 601) == delays[0]


def test_the_openapi_document_and_docs_page_are_under_api_v1(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/health" in document["paths"]
    assert "/api/v1/hosts" in document["paths"]
    assert client.get("/api/v1/docs").status_code == 200

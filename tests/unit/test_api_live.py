"""``GET /api/v1/live`` in-process (Starlette's test client): the token and the query are checked
at the handshake, a resume sends the log after the cursor and then the live messages, and a
cursor older than what is kept gets a ``gap`` first. The real uvicorn and a real client are
in tests/integration/test_api_live.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.testclient import WebSocketDenialResponse

from tests.unit.fake_clock import FakeClock
from vpshealth.api.app import create_app
from vpshealth.api.context import ApiContext
from vpshealth.app import read_model_on
from vpshealth.domain.live import LiveDraft, LiveKind, LiveMessage
from vpshealth.engine.live_hub import LiveHub
from vpshealth.engine.status import EngineStatus
from vpshealth.operations.api_tokens import ApiTokens
from vpshealth.store import live_log
from vpshealth.store.api_token_repository import ApiTokenRepository
from vpshealth.store.database import open_database
from vpshealth.store.live_log import LiveLog

T0 = 1_800_000_000.0


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


@pytest.fixture
def hub() -> LiveHub:
    return LiveHub()


@pytest.fixture
def context(engine: Engine, hub: LiveHub) -> ApiContext:
    clock = FakeClock(T0)
    return ApiContext(
        read_model=read_model_on(engine),
        tokens=ApiTokens(ApiTokenRepository(engine), clock),
        engine=EngineStatus(running=True, started_at=clock.now(), poll_timeout=10),
        clock=clock,
        live_hub=hub,
        live_log=LiveLog(engine),
    )


@pytest.fixture
def token(context: ApiContext) -> str:
    return context.tokens.create("desktop").token


@pytest.fixture
def client(context: ApiContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr("vpshealth.api.auth.FIRST_DELAY", 0.0)
    with TestClient(create_app(context)) as client:
        yield client


def log_messages(engine: Engine, *kinds: LiveKind) -> list[LiveMessage]:
    with engine.begin() as conn:
        return live_log.append(
            conn, [LiveDraft(kind, T0, 1, "web1", {"n": i}) for i, kind in enumerate(kinds)]
        )


def wait_for_subscriber(hub: LiveHub) -> None:
    deadline = time.monotonic() + 5
    while not hub.subscribers:
        assert time.monotonic() < deadline, "the stream did not subscribe"
        time.sleep(0.01)


def test_a_missing_or_wrong_token_is_refused_at_the_handshake(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        with (
            pytest.raises(WebSocketDenialResponse) as refused,
            client.websocket_connect("/api/v1/live", headers=headers),
        ):
            pass
        assert refused.value.status_code == 401
        assert refused.value.json() == {"detail": "A valid bearer token is required."}


@pytest.mark.parametrize(
    ("query", "named"),
    [("after=ten", "after: 'ten' is not a sequence number"), ("after=-1", "after: must be 0"),
     ("kinds=check,cpu", "kinds: unknown kind 'cpu'")],
)  # fmt: skip
def test_a_bad_query_is_refused_naming_the_field(
    client: TestClient, token: str, query: str, named: str
) -> None:
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect(
            f"/api/v1/live?{query}", headers={"Authorization": f"Bearer {token}"}
        ),
    ):
        pass
    assert refused.value.status_code == 400
    assert named in refused.value.json()["detail"]


def test_a_resume_sends_the_logged_messages_after_the_cursor_then_live_ones(
    client: TestClient, token: str, engine: Engine, hub: LiveHub
) -> None:
    logged = log_messages(engine, LiveKind.CHECK, LiveKind.STATE, LiveKind.CHECK, LiveKind.CHECK)
    hub.publish(logged)
    with client.websocket_connect(
        "/api/v1/live?after=1&kinds=check", headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        assert [ws.receive_json()["seq"] for _ in range(2)] == [3, 4]
        wait_for_subscriber(hub)
        (new,) = log_messages(engine, LiveKind.CHECK)
        hub.publish([new])
        received = ws.receive_json()
    assert received == {
        "seq": 5,
        "kind": "check",
        "at": "2027-01-15T08:00:00Z",
        "host": "web1",
        "data": {"n": 0},
    }


def test_without_a_cursor_only_new_messages_are_sent(
    client: TestClient, token: str, engine: Engine, hub: LiveHub
) -> None:
    hub.publish(log_messages(engine, LiveKind.CHECK, LiveKind.CHECK))
    with client.websocket_connect(
        "/api/v1/live", headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        wait_for_subscriber(hub)
        hub.publish(log_messages(engine, LiveKind.STATE))
        assert ws.receive_json()["seq"] == 3


def test_a_cursor_older_than_what_is_kept_gets_a_gap_first(
    client: TestClient, token: str, engine: Engine, hub: LiveHub
) -> None:
    hub.publish(log_messages(engine, LiveKind.CHECK, LiveKind.STATE, LiveKind.CHECK))
    LiveLog(engine).prune({LiveKind.CHECK}, T0 + 1, int(T0), limit=1)  # seq 1 pruned
    with client.websocket_connect(
        "/api/v1/live?after=0", headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        gap = ws.receive_json()
        assert [ws.receive_json()["seq"] for _ in range(2)] == [2, 3]
    assert gap["kind"] == "gap"
    assert gap["seq"] is None
    assert gap["data"]["complete_from"] == 2
    assert gap["data"]["kinds"] == ["check"]

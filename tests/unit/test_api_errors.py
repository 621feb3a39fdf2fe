"""The API's error answers for every route: bodies over 1 MB, malformed or invalid input, the
lower layers' errors, an unexpected failure; with a route of the test's own that takes a body."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from tests.unit.fake_clock import FakeClock
from vpshealth.api.app import create_app
from vpshealth.api.auth import Writer
from vpshealth.api.context import ApiContext
from vpshealth.api.errors import MAX_BODY_BYTES, TOO_LARGE, UNEXPECTED
from vpshealth.app import read_model_on
from vpshealth.engine.status import EngineStatus
from vpshealth.errors import InputError
from vpshealth.operations.api_tokens import ApiTokens
from vpshealth.store.api_token_repository import ApiTokenRepository
from vpshealth.store.database import open_database


class NewHost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    port: int = Field(default=22, ge=1, le=65535)


class NotFoundError(InputError):
    """Named as the operations layer names it."""


class FieldError(InputError):
    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"invalid {field}: {problem}. Nothing was saved.")


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    engine = open_database(tmp_path / "db.sqlite3")
    clock = FakeClock(1_800_000_000.0)
    context = ApiContext(
        read_model=read_model_on(engine),
        tokens=ApiTokens(ApiTokenRepository(engine), clock),
        engine=EngineStatus(running=True, started_at=clock.now(), poll_timeout=10),
        clock=clock,
    )
    app = create_app(context)
    app.state.token = context.tokens.create("tests").token

    @app.post("/test-hosts")
    def add(host: NewHost, _token: Writer) -> dict[str, str]:
        if host.name == "missing":
            raise NotFoundError("There is no incident 7. GET /api/v1/incidents lists them.")
        if host.name == "taken":
            raise InputError("A host named 'taken' exists already.")
        if host.name == "bad-field":
            raise FieldError("address", "not a host name or IP address")
        if host.name == "boom":
            raise RuntimeError("a bug")
        return {"name": host.name}

    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {app.state.token}"}
    with TestClient(app, headers=headers, raise_server_exceptions=False) as client:
        yield client


def test_a_valid_body_passes(client: TestClient) -> None:
    assert client.post("/test-hosts", json={"name": "web1"}).json() == {"name": "web1"}


def test_a_body_over_one_megabyte_is_413_naming_the_limit(client: TestClient) -> None:
    big = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    declared = client.post("/test-hosts", content=big)
    assert declared.status_code == 413
    assert declared.json() == {"detail": TOO_LARGE}
    assert "1 MB (1048576 bytes)" in TOO_LARGE

    def chunks() -> Iterator[bytes]:
        yield from (big[i : i + 65536] for i in range(0, len(big), 65536))

    streamed = client.post("/test-hosts", content=chunks())  # no Content-Length
    assert streamed.status_code == 413
    assert streamed.json() == {"detail": TOO_LARGE}


def test_malformed_json_is_422_on_the_body(client: TestClient) -> None:
    answer = client.post(
        "/test-hosts", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["errors"][0]["field"] == "body"
    assert body["detail"].startswith("body: the body is not valid JSON (")


def test_wrong_types_and_unknown_fields_are_422_naming_each_field(client: TestClient) -> None:
    answer = client.post("/test-hosts", json={"name": "web1", "port": 70000, "colour": "red"})
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "port: Input should be less than or equal to 65535; colour: unknown field; "
        "leave it out (the OpenAPI document lists the fields)",
        "errors": [
            {
                "field": "port",
                "where": "body",
                "message": "Input should be less than or equal to 65535",
            },
            {
                "field": "colour",
                "where": "body",
                "message": "unknown field; leave it out (the OpenAPI document lists the fields)",
            },
        ],
    }
    query = client.get("/api/v1/incidents?limit=many")
    assert query.json()["errors"][0]["field"] == "limit"
    assert query.json()["errors"][0]["where"] == "query"


def test_lower_layers_errors_get_their_status_and_message(client: TestClient) -> None:
    missing = client.post("/test-hosts", json={"name": "missing"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is no incident 7. GET /api/v1/incidents lists them."}
    taken = client.post("/test-hosts", json={"name": "taken"})
    assert (taken.status_code, taken.json()) == (
        400,
        {"detail": "A host named 'taken' exists already."},
    )
    field = client.post("/test-hosts", json={"name": "bad-field"})
    assert field.status_code == 422
    assert field.json()["errors"] == [
        {"field": "address", "where": "body", "message": "not a host name or IP address"}
    ]


def test_an_unexpected_failure_is_logged_and_500_pointing_to_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="vpshealth.api.errors"):
        answer = client.post("/test-hosts", json={"name": "boom"})
    assert answer.status_code == 500
    assert answer.json() == {"detail": UNEXPECTED}
    assert "POST /test-hosts failed" in caplog.text
    assert "RuntimeError: a bug" in caplog.text


def test_unknown_paths_stay_fastapis_404(client: TestClient) -> None:
    answer = client.get("/api/v1/nothing-here")
    assert (answer.status_code, answer.json()) == (404, {"detail": "Not Found"})


def test_the_openapi_document_lists_the_error_answers(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    check = paths["/api/v1/hosts/{name}/check"]["post"]["responses"]
    assert {"200", "401", "403", "404", "413", "422", "500"} <= set(check)
    events = paths["/api/v1/events"]["get"]["responses"]
    assert {"200", "401", "422"} <= set(events)

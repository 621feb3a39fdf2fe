"""Every error answer of the API: ``{"detail": "..."}`` written for a person, and for invalid
input also ``errors``, one per field. Bodies over the limit get 413, lower layers' errors their
status, and an unexpected failure a 500 that points to the node's log."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vpshealth.errors import VpsHealthError
from vpshealth.operations.errors import HostKeyUnconfirmed
from vpshealth.operations.host_keys import where

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = (
    f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB "
    f"({MAX_BODY_BYTES} bytes), the most this API accepts. Send less."
)
UNEXPECTED = (
    "The node failed unexpectedly while answering. Nothing was changed by the failed part; "
    "the node's log (journalctl or `docker compose logs`) has the details."
)
_STATUS_BY_ERROR = {"NotFoundError": 404, "ConflictError": 409}
"""Lower layers' errors by class name (the operations layer defines them)."""
_FIELD_OF_ERROR = {"HostKeyRejected": "host_key_fingerprint", "HostUnreachable": "address"}
"""Errors about one field that do not say which: 422 naming this one."""


class Problem(BaseModel):
    detail: str


class FieldProblem(BaseModel):
    field: str = Field(description="e.g. `port`, `since`, `rules.disk.warning`; `body` for all")
    where: str = Field(description="`body`, `query`, `path` or `header`")
    message: str


class HostKeyToConfirm(BaseModel):
    detail: str
    host_key_fingerprint: str = Field(
        description="what the server presents; send it back as `host_key_fingerprint`",
        examples=["SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"],
    )
    algorithm: str = Field(examples=["ssh-ed25519"])


class InvalidInput(BaseModel):
    detail: str = Field(examples=["port: Input should be less than or equal to 65535"])
    errors: list[FieldProblem]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no token, or not a valid one"},
    413: {"model": Problem, "description": "the body is over 1 MB"},
    422: {"model": InvalidInput, "description": "a field of the query or body is not valid"},
    500: {"model": Problem, "description": "an unexpected failure; see the node's log"},
}
"""Documented on every route that needs a token."""
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the change cannot be made as asked; see `detail`"},
    403: {"model": Problem, "description": "the token is read-only"},
}
HOST_KEY_TO_CONFIRM: dict[int | str, dict[str, Any]] = {
    409: {
        "model": HostKeyToConfirm | Problem,
        "description": "the server's host key must be confirmed first (nothing was saved), "
        "or a host of that name exists",
    },
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "a conflict, e.g. a host of that name exists"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "no host (or item) of that name or id"},
}


class BodyTooLarge(HTTPException):
    """Raised while the body is read, so that FastAPI answers it like any HTTPException."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


def _problem_response(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


class BodyLimit:
    """Counts a request body's bytes as they arrive (with or without Content-Length)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _problem_response(413, TOO_LARGE)(scope, receive, send)
            return
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if started:
                raise
            await _problem_response(413, TOO_LARGE)(scope, receive, send)


class UnexpectedErrors:
    """Logs an unexpected exception with its traceback and answers 500 in JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            log.exception("API: %s %s failed", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _problem_response(500, UNEXPECTED)(scope, receive, send)


def field_name(loc: Sequence[int | str]) -> tuple[str, str]:
    """(field, where) from a pydantic location such as ``("body", "rules", "cpu.warning")``."""
    where = str(loc[0]) if loc else "body"
    rest = [str(part) for part in loc[1:] if not isinstance(part, int) or where != "body"]
    return (".".join(rest) or where, where)


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "not valid JSON")
        return f"the body is not valid JSON ({reason}); send a JSON object"
    if error.get("type") == "extra_forbidden":
        return "unknown field; leave it out (the OpenAPI document lists the fields)"
    return str(error.get("msg", "not valid"))


def invalid_input(errors: Sequence[dict[str, Any]]) -> JSONResponse:
    problems = []
    for error in errors:
        field, where = field_name(tuple(error.get("loc", ())))
        problems.append({"field": field, "where": where, "message": _message(error)})
    detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "invalid input"
    return JSONResponse({"detail": detail, "errors": problems}, status_code=422)


def invalid_field(where: str, field: str, message: str) -> RequestValidationError:
    """A 422 for a value the route checks itself, in the same shape as pydantic's."""
    return RequestValidationError([{"loc": (where, field), "msg": message, "type": "value_error"}])


async def _on_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return invalid_input(exc.errors())


def host_key_message(exc: HostKeyUnconfirmed) -> str:
    return (
        f"{exc.name}: the server at {where(exc.address, exc.port)} presents the host key "
        f"{exc.algorithm} {exc.fingerprint}, which is not trusted yet. Nothing was saved. "
        "Compare it with the server's own (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` "
        f'on the server), then repeat the request with "host_key_fingerprint": "{exc.fingerprint}".'
    )


async def _on_own_error(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, HostKeyUnconfirmed):
        body = {
            "detail": host_key_message(exc),
            "host_key_fingerprint": exc.fingerprint,
            "algorithm": exc.algorithm,
        }
        return JSONResponse(body, status_code=409)
    field = getattr(exc, "field", None)
    message = getattr(exc, "problem", None) if isinstance(field, str) else None
    field = field or _FIELD_OF_ERROR.get(type(exc).__name__)
    if isinstance(field, str):
        message = message or str(exc)
        problem = {"field": field, "where": "body", "message": str(message)}
        return JSONResponse({"detail": str(exc), "errors": [problem]}, status_code=422)
    status = next(
        (_STATUS_BY_ERROR[c.__name__] for c in type(exc).__mro__ if c.__name__ in _STATUS_BY_ERROR),
        400,
    )
    return _problem_response(status, str(exc))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(VpsHealthError, _on_own_error)
    app.add_middleware(BodyLimit)
    app.add_middleware(UnexpectedErrors)

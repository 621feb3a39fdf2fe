"""What the API's routes are given: built in app.py, found on ``request.app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from vpshealth.clock import Clock
from vpshealth.engine.live_hub import LiveHub
from vpshealth.engine.status import EngineStatus
from vpshealth.operations.api_tokens import ApiTokens
from vpshealth.read_model.reader import ReadModel
from vpshealth.store.live_log import LiveLog


@dataclass(frozen=True, slots=True)
class ApiContext:
    """``read_model`` reads through the API's own database connections; its routes that read
    are plain functions, which FastAPI runs in worker threads, off the event loop."""

    read_model: ReadModel
    tokens: ApiTokens
    engine: EngineStatus
    clock: Clock
    metrics_open: bool = False
    live_hub: LiveHub | None = None
    live_log: LiveLog | None = None
    """The live stream: the service's hub, and its log read through the API's connections."""


def api_context(connection: HTTPConnection) -> ApiContext:
    context: ApiContext = connection.app.state.context
    return context

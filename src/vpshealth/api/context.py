"""What the API's routes are given: built in app.py, found on ``request.app.state``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from vpshealth.api.render_cache import RenderCache
from vpshealth.clock import Clock
from vpshealth.domain.health import CheckResult
from vpshealth.domain.takeover import HandedBack
from vpshealth.engine.live_hub import LiveHub
from vpshealth.engine.loop_lag import LoopLagMonitor
from vpshealth.engine.status import EngineStatus
from vpshealth.operations.api_tokens import ApiTokens
from vpshealth.operations.bundle import Operations
from vpshealth.read_model.reader import ReadModel
from vpshealth.store.handback import HandbackResult
from vpshealth.store.history import HistoryReader
from vpshealth.store.live_log import LiveLog
from vpshealth.store.rule_repository import RuleRepository
from vpshealth.store.sync_source import SyncSource


@dataclass(frozen=True, slots=True)
class ApiContext:
    """``read_model`` reads through the API's own database connections; its routes that read
    are plain functions, which FastAPI runs in worker threads, off the event loop."""

    read_model: ReadModel
    tokens: ApiTokens
    engine: EngineStatus
    clock: Clock
    metrics_open: bool = False
    history: HistoryReader | None = None
    rules: RuleRepository | None = None
    rule_base: Mapping[str, float] = field(default_factory=dict)
    """The levels the environment sets, under the stored rules (``Core.rule_base``)."""
    check_host: Callable[[str], Awaitable[CheckResult]] | None = None
    """Checks the host of that name now and stores the result (``Core.check_once``)."""
    loop_lag: LoopLagMonitor | None = None
    fleet_answers: RenderCache = field(default_factory=RenderCache)
    """The host list and /metrics, rendered at most every ``seconds`` (0 in tests)."""
    live_hub: LiveHub | None = None
    live_log: LiveLog | None = None
    """The live stream: the service's hub, and its log read through the API's connections."""
    operations: Operations | None = None
    """What the write routes call (``Core.operations``); blocking: call off the loop."""
    read_secret: Callable[[str], str] | None = None
    """The text of a secret file of the node by its name (``read_secret_file``); blocking."""
    sync: SyncSource | None = None
    changed: Callable[[], None] | None = None
    """Rings the live stream after an edit (blocking: a write); None without a stream."""
    """What a desktop's copy catches up from (``/api/v1/sync``); blocking: call off the loop."""
    handback: Callable[[list[HandedBack]], HandbackResult] | None = None
    """Takes a desktop's hand-back (``store.handback.apply_handback``); blocking."""


def api_context(connection: HTTPConnection) -> ApiContext:
    context: ApiContext = connection.app.state.context
    return context

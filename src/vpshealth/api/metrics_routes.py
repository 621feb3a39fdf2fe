"""``GET /metrics``: the Prometheus text exposition. Needs a token unless metrics are opened
(``VPSHEALTH_METRICS_OPEN=1``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from starlette.requests import HTTPConnection

from vpshealth.api.auth import Context, require_reader
from vpshealth.api.context import ApiContext
from vpshealth.api.fleet_answer import fleet_answer
from vpshealth.api.prometheus_collector import NodeCollector

router = APIRouter(tags=["metrics"])

METRICS_SECONDS = 10.0
"""The exposition is rendered at most this often (at 1,000 hosts a rendering costs about
0.3 s of CPU); no host is checked more often than every 5 s, and by default every 15 s."""


def metrics_registry(context: ApiContext) -> CollectorRegistry:
    """One registry per app, holding the node's collector alone."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector(context))
    return registry


async def _may_scrape(connection: HTTPConnection, context: Context) -> None:
    if not context.metrics_open:
        await require_reader(connection, context, connection.app.state.failed_logins)


def _registry(connection: HTTPConnection) -> CollectorRegistry:
    registry: CollectorRegistry = connection.app.state.metrics_registry
    return registry


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_PLAIN_0_0_4: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format 0.0.4",
        },
        401: {"description": "a valid bearer token is required (unless metrics are open)"},
    },
    dependencies=[Depends(_may_scrape)],
)
def metrics(
    request: Request, registry: Annotated[CollectorRegistry, Depends(_registry)], context: Context
) -> Response:
    return fleet_answer(
        request,
        context.fleet_answers,
        "metrics",
        lambda: generate_latest(registry),
        CONTENT_TYPE_PLAIN_0_0_4,
        seconds=METRICS_SECONDS,
    )

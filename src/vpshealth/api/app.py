"""The FastAPI application: its routes, its error answers and its documentation."""

from __future__ import annotations

from fastapi import FastAPI

from vpshealth import __version__
from vpshealth.api import (
    channel_routes,
    errors,
    event_routes,
    handback_routes,
    health_routes,
    host_routes,
    host_write_routes,
    incident_routes,
    live_routes,
    metrics_routes,
    rule_routes,
    settings_routes,
    silence_routes,
    sync_routes,
)
from vpshealth.api.auth import FailedLogins
from vpshealth.api.context import ApiContext

DESCRIPTION = (
    "The API of a VPS Health node: the servers it checks, their containers, history, "
    "incidents and events, and a live stream. Every route but `/api/v1/health` needs "
    "`Authorization: Bearer <token>`; create a token with `vpshealth api token create NAME`."
)


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(
        title="VPS Health",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.state.failed_logins = FailedLogins()
    app.state.metrics_registry = metrics_routes.metrics_registry(context)
    app.include_router(health_routes.router)
    for routes in (
        host_routes,
        host_write_routes,
        incident_routes,
        event_routes,
        silence_routes,
        rule_routes,
        settings_routes,
        channel_routes,
        sync_routes,
        handback_routes,
    ):
        app.include_router(routes.router)
    app.include_router(metrics_routes.router)
    app.include_router(live_routes.router)
    errors.install(app)
    return app

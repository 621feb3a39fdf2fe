"""A host's Docker as the Go engine reports it, for the same ``DockerMonitor`` the Python
engine uses: the listing that came with a result, the host's ``event`` messages, and log
lines read with ``docker_get`` requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from vpshealth.collectors.docker_access import DockerAccess, DockerAccessError
from vpshealth.collectors.docker_collector import CONTAINER_ID, DockerListing
from vpshealth.collectors.docker_http import DockerHttpError
from vpshealth.collectors.docker_logs import log_request, parse_logs
from vpshealth.domain.containers import DockerEvent
from vpshealth.domain.docker_json import container_from_json, container_metrics_from_json
from vpshealth.engine.go_protocol import DockerAnswer

DockerGet = Callable[[str], Awaitable[DockerAnswer]]
"""One ``docker_get`` request over the host's connection in the Go engine."""


class GoDockerError(Exception):
    """A ``docker_get`` got no answer (the engine stopped, or the request failed there)."""


def listing_from_json(docker: dict[str, Any]) -> DockerListing:
    """A result's ``docker`` part; raises DockerAccessError for its ``error``."""
    error = docker.get("error")
    if isinstance(error, dict):
        try:
            access = DockerAccess(str(error.get("access")))
        except ValueError:
            access = DockerAccess.UNAVAILABLE
        raise DockerAccessError(access, str(error.get("message") or "the Docker API failed"))
    containers = tuple(container_from_json(c) for c in docker.get("containers") or ())
    metrics = {
        container_id: container_metrics_from_json(m)
        for container_id, m in (docker.get("metrics") or {}).items()
    }
    return DockerListing(containers, {}, metrics)


class GoDockerCollector:
    """Fed by the Go engine's host processor: ``offer`` before each Docker poll of the
    monitor, ``add_event`` for each ``event`` message (in order with the results)."""

    def __init__(self, docker_get: DockerGet) -> None:
        self._docker_get = docker_get
        self._offered: dict[str, Any] | None = None
        self._events: asyncio.Queue[DockerEvent] = asyncio.Queue()

    def offer(self, docker: dict[str, Any]) -> None:
        self._offered = docker

    def add_event(self, event: DockerEvent) -> None:
        self._events.put_nowait(event)

    async def collect(self) -> DockerListing:
        docker, self._offered = self._offered, None
        if docker is None:
            raise DockerAccessError(
                DockerAccess.UNAVAILABLE, "the Go check engine sent no Docker listing"
            )
        return listing_from_json(docker)

    async def events(self, since: int) -> AsyncIterator[DockerEvent]:
        """The host's events as the engine sends them (it follows from the right time)."""
        while True:
            yield await self._events.get()

    async def _get_ok(self, path: str) -> DockerAnswer:
        answer = await self._docker_get(path)
        if answer.error is not None:
            raise GoDockerError(answer.error)
        if answer.status != 200:
            where = path.split("?", maxsplit=1)[0]
            raise DockerHttpError(answer.status, f"{where} answered {answer.status}")
        return answer

    async def last_run_logs(self, container_id: str, at: int) -> str:
        """As ``DockerCollector.last_run_logs``, through the engine's connection."""
        if not CONTAINER_ID.fullmatch(container_id):
            return ""
        inspected = await self._docker_get(f"/containers/{container_id}/json")
        if inspected.error is not None:
            raise GoDockerError(inspected.error)
        if inspected.status == 404:
            return ""
        request = log_request(container_id, inspected.body if inspected.status == 200 else None, at)
        return parse_logs((await self._get_ok(request.path)).body, request.tty)

    def close(self) -> None:
        self._offered = None

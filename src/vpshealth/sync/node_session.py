"""An open session with a node: an HTTP client on its API (through the SSH tunnel or over
https) with the token in its headers, and the typed refusals a face shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from vpshealth.errors import EXIT_NOT_OK, VpsHealthError

HEALTH_PATH = "/api/v1/health"
AUTHENTICATED_PATH = "/api/v1/hosts"


class NodeProblem(StrEnum):
    UNREACHABLE = "unreachable"
    HOST_KEY_CHANGED = "host_key_changed"
    HOST_KEY_NOT_TRUSTED = "host_key_not_trusted"
    LOGIN_REFUSED = "login_refused"
    KEY_MISSING = "key_missing"
    TLS = "tls"
    API_NOT_ANSWERING = "api_not_answering"
    TOKEN_REFUSED = "token_refused"  # noqa: S105 (a name, not a secret)
    """401: the token was revoked, or it is not one of the node's."""
    FORBIDDEN = "forbidden"
    """403: the token is read-only."""
    NOT_A_NODE = "not_a_node"


class NodeError(VpsHealthError):
    """The node cannot be used now; the message names it and says what to do."""

    exit_code = EXIT_NOT_OK

    def __init__(self, problem: NodeProblem, message: str) -> None:
        self.problem = problem
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class NodeHealth:
    """What the node's /api/v1/health said, and how many hosts the token can read."""

    status: str
    engine_running: bool
    hosts: int


@dataclass(slots=True)
class NodeSession:
    """``client``'s base_url is the node's API; the bearer token is in its headers."""

    client: httpx.AsyncClient
    name: str
    """The node as named in messages."""
    ws_base: str
    api_port: int
    ssh_lost: Callable[[], bool] | None = None
    """Through SSH: whether the SSH connection under the tunnel has closed."""

    @property
    def through_ssh(self) -> bool:
        return self.ssh_lost is not None

    def ws_url(self, path: str) -> str:
        """The WebSocket URL of ``path`` (e.g. /api/v1/live); send ``client.headers``' token."""
        return self.ws_base + path

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header, for a WebSocket client."""
        return {"Authorization": self.client.headers["Authorization"]}

    def _timeout(self, seconds: float | None) -> httpx.Timeout:
        return self.client.timeout if seconds is None else httpx.Timeout(seconds)

    def refusal(self, response: httpx.Response) -> NodeError | None:
        """The typed error of a 401 or 403 answer, else None."""
        if response.status_code == 401:
            return NodeError(
                NodeProblem.TOKEN_REFUSED,
                f"{self.name} refused the token (HTTP 401): it was revoked, or it is not one of "
                "this node's. Make a new one on the node with `vpshealth api token create "
                "NAME` and run `vpshealth node connect ... --token-stdin` again.",
            )
        if response.status_code == 403:
            return NodeError(
                NodeProblem.FORBIDDEN,
                f"{self.name} refused the request (HTTP 403): the token is read-only. Make a "
                "token without --read-only on the node (`vpshealth api token create NAME`) "
                "and connect again with it.",
            )
        return None

    def transport_error(self, exc: httpx.HTTPError) -> NodeError:
        """The typed error of a request that got no answer."""
        if self.ssh_lost is not None and self.ssh_lost():
            return NodeError(
                NodeProblem.UNREACHABLE,
                f"lost the SSH connection to {self.name}: check that it is up and reachable; "
                "a new session connects again.",
            )
        if self.ssh_lost is not None:
            return NodeError(
                NodeProblem.API_NOT_ANSWERING,
                f"{self.name} accepted the SSH login, but nothing answers on its port "
                f"{self.api_port}: is `vpshealth service --api 127.0.0.1:{self.api_port}` "
                "running there? (Another port: --api-port N.)",
            )
        if isinstance(exc, httpx.ConnectError) and "CERTIFICATE" in str(exc).upper():
            return NodeError(
                NodeProblem.TLS,
                f"{self.name}: its TLS certificate is not trusted ({exc}). If the node uses a "
                "private CA, give its certificate with --ca-file FILE.",
            )
        if isinstance(exc, httpx.TimeoutException):
            return NodeError(
                NodeProblem.UNREACHABLE,
                f"{self.name} did not answer in time: check that it is up and that "
                "`vpshealth service --api` runs there.",
            )
        reason = str(exc) or type(exc).__name__
        return NodeError(
            NodeProblem.UNREACHABLE,
            f"cannot reach {self.name}: {reason}. Check the address and that `vpshealth "
            "service --api` runs there.",
        )

    async def get_json(self, path: str, *, timeout: float | None = None) -> Any:
        """GET ``path`` and return its JSON; raises NodeError for no answer, 401, 403 or an
        answer that is not the API's."""
        try:
            response = await self.client.get(path, timeout=self._timeout(timeout))
        except httpx.HTTPError as exc:
            raise self.transport_error(exc) from None
        refused = self.refusal(response)
        if refused is not None:
            raise refused
        try:
            return response.raise_for_status().json()
        except (httpx.HTTPStatusError, ValueError):
            raise NodeError(
                NodeProblem.NOT_A_NODE,
                f"{self.name} answered {path} with HTTP {response.status_code}, not as a "
                "VPS Health node does: check the address (and the path prefix behind a proxy).",
            ) from None

    async def check(self, *, timeout: float | None = None) -> NodeHealth:
        """The node answers, and accepts the token: GET /api/v1/health (no token needed),
        then one authenticated read."""
        try:
            response = await self.client.get(HEALTH_PATH, timeout=self._timeout(timeout))
        except httpx.HTTPError as exc:
            raise self.transport_error(exc) from None
        try:
            health = response.json() if response.status_code in (200, 503) else None
        except ValueError:
            health = None
        if not isinstance(health, dict) or "status" not in health:
            raise NodeError(
                NodeProblem.NOT_A_NODE,
                f"{self.name} answered {HEALTH_PATH} with HTTP {response.status_code}, not as "
                "a VPS Health node does: check the address (and the path prefix behind a "
                "proxy).",
            )
        hosts = await self.get_json(AUTHENTICATED_PATH, timeout=timeout)
        count = len(hosts.get("hosts", [])) if isinstance(hosts, dict) else 0
        return NodeHealth(
            status=str(health["status"]),
            engine_running=bool(health.get("engine_running")),
            hosts=count,
        )

"""Reading a Hetzner Cloud project's servers with the official ``hcloud`` library. Blocking
(``requests``): call from a worker thread when on an event loop. ``hcloud`` and ``requests``
load on first use (about 0.3 s), not with every command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from vpshealth.domain.hetzner import CloudServer

if TYPE_CHECKING:
    from hcloud import APIException
    from hcloud.servers import BoundServer

DEFAULT_ENDPOINT: Final = "https://api.hetzner.cloud/v1"
TIMEOUT_SECONDS: Final = 10.0


class HetznerError(Exception):
    """The API gave no usable answer. ``message`` is written for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HetznerAuthError(HetznerError):
    """401 ``unauthorized``: the token is wrong or was revoked."""


class HetznerRateLimited(HetznerError):
    """429 ``rate_limit_exceeded``; ``reset_at`` is the ``RateLimit-Reset`` time, if sent."""

    def __init__(self, message: str, reset_at: float | None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class HetznerCloud:
    """One project's API, read-only."""

    def __init__(self, token: str, api_endpoint: str | None = None) -> None:
        from hcloud import Client  # noqa: PLC0415

        self._endpoint = api_endpoint or DEFAULT_ENDPOINT
        self._client = Client(
            token=token,
            api_endpoint=self._endpoint,
            application_name="vpshealth",
            timeout=TIMEOUT_SECONDS,
        )
        # hcloud retries a 429 five times with sleeps of up to a minute; the caller decides
        # when to ask again instead (the checks must never wait for the API).
        self._client._client._retry_max_retries = 0
        self._reset_at: float | None = None
        self._client._client._session.hooks["response"].append(self._remember_reset)

    def _remember_reset(self, response: Any, *_: object, **__: object) -> None:
        reset = response.headers.get("RateLimit-Reset")
        try:
            self._reset_at = float(reset) if reset is not None else None
        except ValueError:
            self._reset_at = None

    def servers(self, label_selector: str | None = None) -> list[CloudServer]:
        """Every server of the project (all pages), or those ``label_selector`` selects."""
        import requests  # noqa: PLC0415
        from hcloud import APIException  # noqa: PLC0415

        try:
            found = self._client.servers.get_all(label_selector=label_selector or None)
        except APIException as exc:
            raise self._error(exc) from None
        except requests.RequestException as exc:
            raise HetznerError(
                f"cannot reach the Hetzner Cloud API at {self._endpoint} ({type(exc).__name__})"
            ) from None
        return [_server(s) for s in found]

    def _error(self, exc: APIException) -> HetznerError:
        if exc.code in ("unauthorized", 401):
            return HetznerAuthError(
                "the Hetzner Cloud API refused the token (401 unauthorized): create a "
                "read-only API token in the project's Security > API tokens"
            )
        if exc.code in ("rate_limit_exceeded", 429):
            when = "in a few minutes"
            if self._reset_at is not None:
                when = "after " + datetime.fromtimestamp(self._reset_at, UTC).strftime("%H:%M UTC")
            return HetznerRateLimited(
                "the Hetzner Cloud API's rate limit is used up (429 rate_limit_exceeded; "
                f"3,600 requests an hour per project): try again {when}",
                self._reset_at,
            )
        if exc.code == "invalid_input":
            return HetznerError(f"the Hetzner Cloud API refused the request: {exc.message}")
        return HetznerError(f"the Hetzner Cloud API answered with an error: {exc.message}")


def _server(server: BoundServer) -> CloudServer:
    net = server.public_net
    ipv4 = net.ipv4.ip if net is not None and net.ipv4 is not None else None
    ipv6 = net.ipv6.ip if net is not None and net.ipv6 is not None else None
    return CloudServer(
        id=int(server.id or 0),
        name=str(server.name),
        status=str(server.status),
        locked=bool(server.locked),
        rescue_enabled=bool(server.rescue_enabled),
        ipv4=ipv4,
        ipv6_network=ipv6,
        labels=dict(server.labels or {}),
    )

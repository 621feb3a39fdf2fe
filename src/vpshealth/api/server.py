"""Serves the API with uvicorn inside the service's own event loop, as one of its workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import sys
from collections.abc import Generator

import anyio.to_thread
import uvicorn
from fastapi import FastAPI

from vpshealth.api.live_routes import PING_SECONDS
from vpshealth.domain.listen_address import ListenAddress
from vpshealth.errors import ConfigurationError

log = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.001
"""How long a thread may hold the interpreter before another that waits gets it (Python's
default: 5 ms). The API's worker threads render large answers; with the default, the event
loop that runs the checks waited up to ~100 ms for its turn at 1,000 hosts under load."""

API_THREADS = 2
"""Worker threads for the routes that read (FastAPI's default is 40): more requests wait
their turn instead of each holding a connection and its memory, and fewer threads contend with
the event loop for the interpreter. An answer about the whole fleet is rendered by one of them
while the others go on (see render_cache.py)."""


class _InLoopServer(uvicorn.Server):
    """The service owns SIGINT and SIGTERM and stops the server itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ApiServer:
    """Runs until cancelled; the listening socket is open once ``started`` is true."""

    def __init__(self, app: FastAPI, address: ListenAddress) -> None:
        self.address = address
        config = uvicorn.Config(
            app,
            host=address.host,
            port=address.port,
            ssl_certfile=address.tls_cert,
            ssl_keyfile=address.tls_key,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="websockets-sansio",
            ws_max_size=1024 * 1024,
            ws_ping_interval=PING_SECONDS,
            ws_ping_timeout=PING_SECONDS,
            server_header=False,
            timeout_graceful_shutdown=3,
        )
        self._config = config
        self._server = _InLoopServer(config)
        self._socket: socket.socket | None = None

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    def open(self) -> None:
        """Load the TLS files and bind the port now, so that a mistake stops the service
        before it starts checking."""
        where = self.address.url
        try:
            self._config.load()
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"The API cannot use its TLS certificate or key ({exc}). Check "
                "--tls-cert and --tls-key (PEM files readable by this user)."
            ) from None
        family = socket.AF_INET6 if ":" in self.address.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.address.host, self.address.port))
        except OSError as exc:
            sock.close()
            raise ConfigurationError(
                f"The API cannot listen on {where}: {exc.strerror or exc}. Stop what uses "
                "the port or choose another with --api HOST:PORT."
            ) from None
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock

    async def run(self) -> None:
        if self._socket is None:
            self.open()
        assert self._socket is not None
        anyio.to_thread.current_default_thread_limiter().total_tokens = API_THREADS
        sys.setswitchinterval(SWITCH_INTERVAL)
        log.info("API listening on %s", self.address.url)
        serving = asyncio.ensure_future(self._server.serve(sockets=[self._socket]))
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(serving, timeout=5)
            raise
        finally:
            self._socket.close()

"""A small HTTP node on loopback: /api/v1/health, and /api/v1/hosts for TOKEN only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "vph_good-token"


@dataclass
class StubNode:
    port: int
    hosts_status: int = 200
    health_body: bytes = b'{"status": "ok", "engine_running": true, "hosts": 2}'
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def stub_node() -> Iterator[StubNode]:
    stub = StubNode(0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stub.seen.append((self.path, self.headers.get("Authorization")))
            if self.path == "/api/v1/health":
                self._send(200, stub.health_body)
            elif self.path == "/api/v1/hosts":
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._send(401, b'{"detail": "a valid bearer token is required"}')
                else:
                    self._send(stub.hosts_status, json.dumps({"hosts": [{}, {}]}).encode())
            else:
                self._send(404, b"{}")

        def _send(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()

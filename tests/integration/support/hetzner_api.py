"""A local stand-in for the Hetzner Cloud API (there is no internet here), for ``hcloud``'s
``api_endpoint``.

What it models, following Hetzner's API reference (docs.hetzner.cloud):

- ``GET /v1/servers``: the ``servers`` array and ``meta.pagination`` (``page``, ``per_page``,
  ``previous_page``, ``next_page``, ``last_page``, ``total_entries``); ``page`` and ``per_page``
  query parameters (default 25, at most 50 a page); the ``label_selector`` parameter with its
  documented expressions, comma-separated (all must hold): ``k``, ``!k``, ``k=v``, ``k==v``,
  ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``; a malformed selector is a 400
  ``invalid_input``.
- ``GET /v1/servers/{id}``: ``{"server": ...}``, or 404 ``not_found``.
- A server object as documented: ``id``, ``name``, ``status`` (running, initializing,
  starting, stopping, off, deleting, migrating, rebuilding, unknown), ``locked``,
  ``rescue_enabled``, ``labels``, ``public_net.ipv4`` (``ip``, ``blocked``, ``dns_ptr``) and
  ``public_net.ipv6`` (``ip`` is the /64 network), ``server_type``, ``datacenter``, ``image``,
  ``protection``, traffic counters and the empty lists of volumes, floating IPs and networks.
- Errors in the documented envelope ``{"error": {"code", "message", "details"}}``: 401
  ``unauthorized`` for a missing or wrong bearer token; 429 ``rate_limit_exceeded`` once the
  request budget is used up.
- Every answer carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
  (the Unix time the budget is full again; it refills by one request a second).

Not modelled: anything but reading servers (actions, other resources, writes).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATUSES = (
    "running", "initializing", "starting", "stopping", "off",
    "deleting", "migrating", "rebuilding", "unknown",
)  # fmt: skip
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 50


@dataclass
class FakeServer:
    id: int
    name: str
    status: str = "running"
    ipv4: str | None = "127.0.0.1"
    ipv6_network: str | None = "2001:db8:1::/64"
    labels: dict[str, str] = field(default_factory=dict)
    locked: bool = False
    rescue_enabled: bool = False

    def to_json(self) -> dict[str, Any]:
        assert self.status in STATUSES, self.status
        ipv4 = None
        if self.ipv4 is not None:
            ipv4 = {"id": self.id * 10 + 4, "ip": self.ipv4, "blocked": False,
                    "dns_ptr": f"static.{self.ipv4}.clients.your-server.de"}  # fmt: skip
        ipv6 = None
        if self.ipv6_network is not None:
            ipv6 = {"id": self.id * 10 + 6, "ip": self.ipv6_network, "blocked": False,
                    "dns_ptr": []}  # fmt: skip
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "created": "2026-01-15T10:00:00+00:00",
            "public_net": {"ipv4": ipv4, "ipv6": ipv6, "floating_ips": [], "firewalls": []},
            "private_net": [],
            "server_type": {
                "id": 104,
                "name": "cpx22",
                "description": "CPX22",
                "cores": 2,
                "memory": 4.0,
                "disk": 80,
                "storage_type": "local",
                "cpu_type": "shared",
                "architecture": "x86",
                "deprecated": False,
                "prices": [],
            },
            "datacenter": {
                "id": 4,
                "name": "fsn1-dc14",
                "description": "Falkenstein 1 virtual DC 14",
                "location": {
                    "id": 1,
                    "name": "fsn1",
                    "description": "Falkenstein DC Park 1",
                    "country": "DE",
                    "city": "Falkenstein",
                    "latitude": 50.47612,
                    "longitude": 12.370071,
                    "network_zone": "eu-central",
                },
            },
            "image": {
                "id": 114690387,
                "type": "system",
                "status": "available",
                "name": "debian-12",
                "description": "Debian 12",
                "os_flavor": "debian",
                "os_version": "12",
                "architecture": "x86",
                "rapid_deploy": True,
                "protection": {"delete": False},
                "labels": {},
            },
            "iso": None,
            "rescue_enabled": self.rescue_enabled,
            "locked": self.locked,
            "backup_window": None,
            "outgoing_traffic": 123456,
            "ingoing_traffic": 654321,
            "included_traffic": 21990232555520,
            "protection": {"delete": False, "rebuild": False},
            "labels": dict(self.labels),
            "volumes": [],
            "load_balancers": [],
            "primary_disk_size": 80,
            "placement_group": None,
        }


class SelectorError(ValueError):
    pass


_SET = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_CMP = re.compile(r"^\s*([^\s!=]+)\s*(==|!=|=)\s*([^\s!=]*)\s*$")
_HAS = re.compile(r"^\s*(!?)([^\s!=(),]+)\s*$")


def _split(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def selects(selector: str, labels: dict[str, str]) -> bool:
    """Whether every expression of ``selector`` holds for ``labels``; raises SelectorError."""
    for expression in _split(selector):
        if m := _SET.match(expression):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            inside = key in labels and labels[key] in values
            if inside != (op == "in"):
                return False
        elif m := _CMP.match(expression):
            key, op, value = m.groups()
            equal = labels.get(key) == value
            if equal != (op in ("=", "==")):
                return False
        elif m := _HAS.match(expression):
            present = m.group(2) in labels
            if present == bool(m.group(1)):
                return False
        else:
            raise SelectorError(f"invalid label_selector expression {expression!r}")
    return True


class HetznerApi:
    """The API on 127.0.0.1:<free port>, in a thread. ``servers`` and ``budget`` may be changed
    while it runs; ``requests`` lists the paths asked for."""

    def __init__(self, token: str = "test-token-read-only", *, limit: int = 3600) -> None:
        self.token = token
        self.servers: list[FakeServer] = []
        self.limit = limit
        self.budget = float(limit)
        self.requests: list[str] = []
        self._refilled_at = time.time()
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def exhaust(self, seconds: float = 3600.0) -> None:
        """Use up the request budget and hold it empty for ``seconds``: the answers are 429
        until then, and it refills from then on."""
        with self._lock:
            self.budget = 0.0
            self._refilled_at = time.time() + seconds

    def server(self, server_id: int) -> FakeServer:
        return next(s for s in self.servers if s.id == server_id)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _spend(self) -> tuple[bool, dict[str, str]]:
        with self._lock:
            now = time.time()
            if now > self._refilled_at:
                self.budget = min(float(self.limit), self.budget + (now - self._refilled_at))
                self._refilled_at = now
            allowed = self.budget >= 1
            if allowed:
                self.budget -= 1
            remaining = int(self.budget)
            headers = {
                "RateLimit-Limit": str(self.limit),
                "RateLimit-Remaining": str(remaining),
                "RateLimit-Reset": str(int(self._refilled_at + (self.limit - self.budget))),
            }
            return allowed, headers

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        with self._lock:
            self.requests.append(handler.path)
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            self._send(handler, 401, _error("unauthorized", "unable to authenticate"), {})
            return
        allowed, headers = self._spend()
        if not allowed:
            body = _error("rate_limit_exceeded", "limit of 3600 requests per hour reached")
            self._send(handler, 429, body, headers)
            return
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/v1/servers":
            status, body = self._list(query)
        elif m := re.fullmatch(r"/v1/servers/(\d+)", url.path):
            status, body = self._one(int(m.group(1)))
        else:
            status, body = 404, _error("not_found", f"no route {url.path}")
        self._send(handler, status, body, headers)

    def _list(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            page = max(1, int(query.get("page", "1")))
            per_page = min(MAX_PER_PAGE, max(1, int(query.get("per_page", DEFAULT_PER_PAGE))))
        except ValueError:
            return 400, _error("invalid_input", "invalid input in fields 'page', 'per_page'")
        servers = list(self.servers)
        selector = query.get("label_selector")
        if selector:
            try:
                servers = [s for s in servers if selects(selector, s.labels)]
            except SelectorError as exc:
                return 400, _error("invalid_input", str(exc))
        total = len(servers)
        last = max(1, -(-total // per_page))
        chosen = servers[(page - 1) * per_page : page * per_page]
        pagination = {
            "page": page,
            "per_page": per_page,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < last else None,
            "last_page": last,
            "total_entries": total,
        }
        return 200, {"servers": [s.to_json() for s in chosen], "meta": {"pagination": pagination}}

    def _one(self, server_id: int) -> tuple[int, dict[str, Any]]:
        for server in self.servers:
            if server.id == server_id:
                return 200, {"server": server.to_json()}
        return 404, _error("not_found", f"server with ID '{server_id}' not found")

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any], headers: dict[str, str]
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": {}}}

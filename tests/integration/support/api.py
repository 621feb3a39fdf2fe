"""A `vpshealth service --api` on loopback, with a token, for the API's integration tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from tests.integration.support.cli import run_cli
from tests.integration.support.procs import free_port
from tests.integration.support.service import start_service, stop_service, wait_for


@dataclass
class ApiNode:
    url: str
    token: str
    proc: subprocess.Popen[str]
    log: str = ""
    """The service's stderr, once it has stopped."""

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=30,
        )

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)


def create_token(env: Mapping[str, str], name: str, *, read_only: bool = False) -> str:
    made = run_cli(
        "api", "token", "create", name, *(["--read-only"] if read_only else []), env=dict(env)
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


@contextmanager
def api_node(env: Mapping[str, str], *args: str) -> Iterator[ApiNode]:
    """Starts the service with its API on a free loopback port; stops it with SIGTERM and
    checks that it stopped cleanly."""
    token = create_token(env, "tests")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_service(env, "--api", f"127.0.0.1:{port}", *args)
    node = ApiNode(url, token, proc)
    try:
        wait_for("the API to answer", lambda: proc.poll() is not None or _answers(url), 30)
        assert proc.poll() is None, proc.communicate()[1]
        yield node
    finally:
        code, node.log = stop_service(proc)
        assert code == 0, node.log
        assert "Service stopped" in node.log, node.log

"""`vpshealth service --api` as a real process: uvicorn on loopback inside the service, tokens,
refusals, a clean stop on SIGTERM."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.integration.support.api import api_node, create_token
from tests.integration.support.cli import RunCli
from tests.integration.support.procs import free_port
from tests.integration.support.service import wait_for

pytestmark = pytest.mark.integration


def test_the_service_serves_health_without_a_token_and_hosts_with_one(
    cli_env: dict[str, str],
) -> None:
    viewer = create_token(cli_env, "viewer", read_only=True)
    with api_node(cli_env) as node:
        wait_for(
            "a healthy engine",
            lambda: httpx.get(f"{node.url}/api/v1/health").json()["status"] == "ok",
            40,
        )
        health = httpx.get(f"{node.url}/api/v1/health").json()
        assert health["engine_running"] is True
        assert health["hosts"] == 1
        assert health["last_poll_age_seconds"] < 60
        assert httpx.get(f"{node.url}/api/v1/hosts").status_code == 401
        with node.client("vph_not-a-token") as wrong:
            assert wrong.get("/api/v1/hosts").status_code == 401
        with node.client(viewer) as client:
            hosts = client.get("/api/v1/hosts").json()["hosts"]
        assert [h["name"] for h in hosts] == ["localhost"]
    assert "API: wrong token from 127.0.0.1" in node.log
    assert "API: no token from 127.0.0.1" in node.log


def test_a_reachable_address_without_tls_is_refused(
    run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    refused = run_cli("service", "--api", "0.0.0.0:8765", env=cli_env)
    assert refused.returncode == 2
    assert "ssh -N -L" in refused.stderr
    assert "--tls-cert" in refused.stderr


def test_a_port_in_use_stops_the_service_before_it_starts(
    run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        refused = run_cli("service", "--api", f"127.0.0.1:{port}", env=cli_env, timeout=60)
    assert refused.returncode == 2
    assert f"cannot listen on http://127.0.0.1:{port}" in refused.stderr
    assert "Service started" not in refused.stderr

"""Alerting in the running service against a real sshd: a server that stops answering opens one
incident with one notification, and its return resolves it with one more."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.service import (
    good_checks,
    start_service,
    stop_service,
    wait_for,
)
from tests.integration.support.sshd import SshServer


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


def _incidents(run_cli: RunCli, env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = run_cli("incidents", "web1", "--json", *args, env=env)
    assert done.returncode in (0, 1), done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)["incidents"]
    return found


def test_a_server_that_stops_answering_is_one_incident_and_one_recovery(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    added = run_cli(
        "host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
        "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key", "--interval", "5", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    rules = run_cli(
        "rules", "web1", "--set", "unreachable.polls=2", "--set", "load.warning=1000",
        "--set", "load.critical=1000", env=env,
    )  # fmt: skip
    assert rules.returncode == 0, rules.stderr

    proc = start_service(env)
    try:
        wait_for("two good checks of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        assert _incidents(run_cli, env) == []

        ssh_server.kill()
        wait_for(
            "an open unreachable incident",
            lambda: [i["rule"] for i in _incidents(run_cli, env, "--open")] == ["unreachable"],
            60,
        )
        opened = _incidents(run_cli, env, "--open")[0]
        assert opened["severity"] == "critical"
        assert opened["address"].startswith(ssh_server.host)

        ssh_server.start()
        wait_for(
            "the incident to resolve",
            lambda: [i["state"] for i in _incidents(run_cli, env)] == ["resolved"],
            90,
        )
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    notified = [line for line in err.splitlines() if "Notification (" in line]
    assert len(notified) == 2, notified
    assert "Notification (opened, critical): web1: not answering" in notified[0]
    assert "Notification (resolved, critical): Resolved: web1: not answering" in notified[1]
    assert len(_incidents(run_cli, env)) == 1, "one incident, never a duplicate"

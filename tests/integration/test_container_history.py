"""End to end with the real sshd, dockerd and service: a Coolify app redeployed under a new
container name keeps one continuous memory history, read with `history --container`."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.coolify_app import UUID, app_labels
from tests.integration.support.cli import RunCli
from tests.integration.support.dockerd import DockerEngine
from tests.integration.support.service import good_checks, start_service, stop_service, wait_for
from tests.integration.support.sshd import SshServer

pytestmark = pytest.mark.integration

INTERVAL = 5


def deploy_name() -> str:
    """``{uuid}-{Hisu}``, as generateApplicationContainerName makes it."""
    return f"{UUID}-{dt.datetime.now(dt.UTC).strftime('%H%M%S%f')}"


@pytest.mark.usefixtures("load_out_of_reach")
def test_a_redeployed_app_keeps_one_continuous_memory_history(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    run_cli: RunCli,
    cli_env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    env = {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}
    done = run_cli(
        "host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
        "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key", "--interval", str(INTERVAL),
        "--docker-socket", docker_scenario.socket_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    def history(container: str) -> dict[str, Any] | None:
        args = ("history", "web1", "memory", "--container", container, "--since", "1h", "--json")
        done = run_cli(*args, env=env)
        if done.returncode != 0:
            assert done.returncode == 2, done.stderr
            return None
        data: dict[str, Any] = json.loads(done.stdout)
        return data

    def points_after(ts: float) -> int:
        data = history("shop/production/web")
        return 0 if data is None else sum(1 for p in data["points"] if p["ts"] >= ts)

    first = deploy_name()
    proc = start_service(env)
    try:
        wait_for("a good check of web1", lambda: good_checks(vpshealth_home, "web1") >= 1, 40)
        docker_scenario.run_sleeper(first, labels=app_labels(first))
        wait_for("3 values of the first deploy", lambda: points_after(0) >= 3, 90)
        docker_scenario.remove(first)
        redeployed_at = time.time()
        second = deploy_name()
        docker_scenario.run_sleeper(second, labels=app_labels(second))
        wait_for("3 values of the redeploy", lambda: points_after(redeployed_at) >= 3, 90)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err

    data = history("shop/production/web")
    assert data is not None
    assert data["metric"] == f"container.memory_bytes:coolify/{UUID}"
    times = [p["ts"] for p in data["points"]]
    assert times == sorted(set(times))
    assert sum(1 for ts in times if ts < redeployed_at) >= 3
    assert sum(1 for ts in times if ts >= redeployed_at) >= 3
    assert all(p["value"] > 0 for p in data["points"])
    assert history(second) == data  # the same series by the container's name
    assert history(f"coolify/{UUID}") == data

    done = run_cli("history", "web1", "memory", "--container", "shop/staging/web", env=env)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "web1" in done.stderr
    assert "shop/production/web" in done.stderr

"""`vpshealth service` with the Go check engine (VPSHEALTH_ENGINE=go) against a real sshd and
dockerd, each scenario run with the Python engine too: what the database and the CLI show
must be the same. Then the Go engine is killed: the service starts it again and goes on."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.dockerd import DockerEngine
from tests.integration.support.go_engine import build_go_engine, engine_children
from tests.integration.support.service import (
    recorded_checks,
    start_service,
    stop_service,
    wait_for,
)
from tests.integration.support.sshd import SshServer

ENGINES = ["python", "go"]


@pytest.fixture(scope="session")
def go_program() -> Path:
    return build_go_engine()


@pytest.fixture(params=ENGINES)
def env(request: pytest.FixtureRequest, cli_env: dict[str, str]) -> dict[str, str]:
    engine = str(request.param)
    if engine == "go":
        program = request.getfixturevalue("go_program")
        return {**cli_env, "VPSHEALTH_ENGINE": "go", "VPSHEALTH_GO_ENGINE_PATH": str(program)}
    return {**cli_env, "VPSHEALTH_ENGINE": "python"}


def add_web1(run_cli: RunCli, env: dict[str, str], ssh_server: SshServer, *extra: str) -> None:
    steps = [
        ("host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
         "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
         "--trust-host-key", "--interval", "5", *extra),
        ("rules", "--set", "load.warning=1000", "--set", "load.critical=1000"),
    ]  # fmt: skip
    for step in steps:
        done = run_cli(*step, env=env)
        assert done.returncode == 0, done.stderr


def listed(run_cli: RunCli, env: dict[str, str], name: str) -> dict[str, Any] | None:
    done = run_cli("host", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    hosts = json.loads(done.stdout)["hosts"]
    return next((h for h in hosts if h["name"] == name), None)


def the_key_is_nowhere(home: Path, key_file: Path) -> None:
    secret = key_file.read_text().strip().splitlines()[1].encode()
    for path in home.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), f"key material in {path}"


def test_an_ok_host_has_its_metrics(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str], vpshealth_home: Path
) -> None:
    add_web1(run_cli, env, ssh_server)
    before = recorded_checks(vpshealth_home, "web1")
    proc = start_service(env)
    try:
        wait_for(
            "two checks of web1 by the service",
            lambda: recorded_checks(vpshealth_home, "web1") >= before + 2,
            60,
        )
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    host = listed(run_cli, env, "web1")
    assert host is not None
    assert (host["state"], host["problem"]) == ("ok", None), host["message"]
    metrics = host["metrics"]
    assert metrics["cpu_percent"] is not None, metrics
    assert metrics["memory"]["total_bytes"] > 0, metrics
    assert metrics["disks"], metrics
    assert host["system"], host
    assert "Traceback" not in err
    the_key_is_nowhere(vpshealth_home, ssh_server.client_key_path)


def test_an_unreachable_port_and_a_changed_host_key(
    ssh_server: SshServer,
    closed_port: int,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    add_web1(run_cli, env, ssh_server)
    for step in (
        ("host", "add", "gone", "--address", ssh_server.host, "--port", str(ssh_server.port),
         "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
         "--trust-host-key", "--interval", "5"),
        ("host", "edit", "gone", "--port", str(closed_port)),
    ):  # fmt: skip
        done = run_cli(*step, env=env)
        assert done.returncode == 0, done.stderr
    ssh_server.restart_with_new_host_key()
    proc = start_service(env)
    try:
        wait_for(
            "gone to be unreachable and web1's key to be refused",
            lambda: ((listed(run_cli, env, "gone") or {}).get("problem"),
                     (listed(run_cli, env, "web1") or {}).get("problem"))
            == ("unreachable", "host_key_mismatch"),
            60,
        )  # fmt: skip
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    gone, web1 = listed(run_cli, env, "gone"), listed(run_cli, env, "web1")
    assert gone is not None
    assert web1 is not None
    assert gone["state"] == "unreachable"
    assert str(closed_port) in gone["message"] or "gone" in gone["message"]
    assert web1["state"] == "critical"
    assert "CHANGED" in web1["message"]


def test_a_crash_looping_coolify_app_opens_a_restart_loop_with_its_lines(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    add_web1(run_cli, env, ssh_server, "--docker-socket", docker_scenario.socket_path)

    def loop_incident() -> dict[str, Any] | None:
        done = run_cli("incidents", "--json", env=env)
        found = json.loads(done.stdout)["incidents"] if done.stdout else []
        return next((i for i in found if i["rule"] == "restart_loop"), None)

    proc = start_service(env)
    try:
        wait_for("a check of web1", lambda: recorded_checks(vpshealth_home, "web1") >= 2, 60)
        docker_scenario.ensure_image()
        coolify = {
            "coolify.managed": "true", "coolify.projectName": "shop",
            "coolify.environmentName": "production", "coolify.resourceName": "web",
            "coolify.type": "application",
        }  # fmt: skip
        labels = [part for key, value in coolify.items() for part in ("--label", f"{key}={value}")]
        docker_scenario.docker(
            "run", "-d", "--name", "shop-web", "--restart=always", *labels, "vhbusy:latest",
            "sh", "-c", "echo starting; echo giving up; sleep 1; exit 3",
        )  # fmt: skip
        wait_for("the restart loop", loop_incident, 120)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    found = loop_incident()
    assert found is not None
    assert "shop" in json.dumps(found), found
    assert "giving up" in (found.get("log_lines") or ""), found


def test_the_go_engine_killed_is_started_again(
    ssh_server: SshServer, run_cli: RunCli, go_program: Path, cli_env: dict[str, str],
    vpshealth_home: Path,
) -> None:  # fmt: skip
    env = {**cli_env, "VPSHEALTH_ENGINE": "go", "VPSHEALTH_GO_ENGINE_PATH": str(go_program)}
    add_web1(run_cli, env, ssh_server)
    log_file = vpshealth_home / "logs" / "service.log"
    proc = start_service(env)
    try:
        wait_for("the Go engine", lambda: engine_children(proc.pid), 30)
        wait_for("a check of web1", lambda: recorded_checks(vpshealth_home, "web1") >= 2, 60)
        first = engine_children(proc.pid)[0]
        os.kill(first.pid, signal.SIGKILL)
        wait_for(
            "the service to say the engine stopped",
            lambda: (
                log_file.exists()
                and "The Go check engine stopped (exit code 137); starting it again in 1 s"
                in log_file.read_text()
            ),
            30,
        )
        wait_for(
            "a new Go engine",
            lambda: any(c.pid != first.pid for c in engine_children(proc.pid)),
            30,
        )
        after = recorded_checks(vpshealth_home, "web1")
        wait_for(
            "checks after the restart",
            lambda: recorded_checks(vpshealth_home, "web1") >= after + 2,
            60,
        )
        assert proc.poll() is None
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    assert not engine_children(proc.pid)
    the_key_is_nowhere(vpshealth_home, ssh_server.client_key_path)


def test_a_missing_go_engine_stops_the_service_at_once(
    run_cli: RunCli, cli_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-engine"
    env = {**cli_env, "VPSHEALTH_ENGINE": "go", "VPSHEALTH_GO_ENGINE_PATH": str(missing)}
    done = run_cli("service", env=env, timeout=60)
    assert done.returncode == 2
    assert str(missing) in done.stderr
    assert "scripts/build-go-engine" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    wrong = run_cli("service", env={**cli_env, "VPSHEALTH_ENGINE": "rust"}, timeout=60)
    assert wrong.returncode == 2
    assert "VPSHEALTH_ENGINE" in wrong.stderr
    assert "'python' or 'go'" in wrong.stderr

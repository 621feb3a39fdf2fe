"""Containers through a real sshd to a real Docker engine, as a plain user in the docker group."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.dockerd import DockerEngine
from tests.integration.support.service import start_service, stop_service, wait_for
from tests.integration.support.sshd import SshServer


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return cli_env


@pytest.fixture
def web1(
    ssh_server: SshServer, docker_scenario: DockerEngine, run_cli: RunCli, env: dict[str, str]
) -> str:
    done = run_cli(
        "host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
        "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key", "--interval", "5", "--docker-socket", docker_scenario.socket_path,
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # cli_env puts the percent levels out of reach; the load of a busy test machine too
    quiet = run_cli("rules", "--set", "load.warning=1000", "--set", "load.critical=1000", env=env)
    assert quiet.returncode == 0, quiet.stderr
    return "web1"


def check(run_cli: RunCli, env: dict[str, str], name: str) -> tuple[int, dict[str, Any]]:
    done = run_cli("check", name, "--json", env=env)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)["hosts"][0]


def health_of(engine: DockerEngine, name: str) -> str:
    state = engine.inspect(name)["State"]
    return str(state.get("Health", {}).get("Status", "none"))


def incidents(home: Path, *, open_only: bool = False) -> list[tuple[str, str, str | None]]:
    database = home / "data" / "vpshealth.sqlite3"
    conn = sqlite3.connect(database, timeout=10)
    try:
        query = "SELECT kind, subject, resolved_at FROM incidents"
        if open_only:
            query += " WHERE resolved_at IS NULL"
        rows = conn.execute(query + " ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    return [(row[0], row[1], row[2]) for row in rows]


def kinds(home: Path, *, open_only: bool = False) -> list[tuple[str, str]]:
    return [(k, s) for k, s, _ in incidents(home, open_only=open_only)]


def test_check_lists_containers_grouped_by_app(
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, env: dict[str, str]
) -> None:
    engine = docker_scenario
    engine.run_healthy("api")
    engine.run_coolify("shop-web", "shop", "production", "web")
    engine.run_compose("blog-db", "blog", "db")
    engine.run_sleeper("plain")
    engine.docker("create", "--name", "never-started", "vhbusy:latest", "sleep", "1")
    wait_for("api to be healthy", lambda: health_of(engine, "api") == "healthy", 20)

    check(run_cli, env, web1)
    _, host = check(run_cli, env, web1)
    assert host["state"] == "ok", host["message"]
    assert host["incidents"] == []
    by_name = {c["name"]: c for c in host["containers"]}
    assert set(by_name) == {"api", "shop-web", "blog-db", "plain", "never-started"}
    assert by_name["api"]["health"] == "healthy"
    assert by_name["never-started"]["state"] == "created"
    assert by_name["shop-web"]["group"] == {
        "kind": "coolify", "project": "shop", "environment": "production", "resource": "web",
        "identity": "coolify/shop-web", "app": "shop / production / web",
    }  # fmt: skip
    assert by_name["blog-db"]["group"]["kind"] == "compose"
    assert by_name["blog-db"]["group"]["project"] == "blog"
    assert by_name["plain"]["group"]["kind"] == "standalone"
    for name in ("api", "shop-web", "blog-db", "plain"):
        running = by_name[name]
        assert running["state"] == "running"
        assert running["memory_bytes"] is not None
        assert running["memory_bytes"] > 0
        assert running["cpu_percent"] is None, "a one-off check has no earlier sample"
        assert len(running["id"]) == 64

    table = run_cli("containers", web1, env=env)
    assert table.returncode == 0, table.stderr
    assert "Coolify: shop / production / web" in table.stdout
    assert "Compose: blog" in table.stdout
    assert "never-started" not in table.stdout
    assert "never-started" in run_cli("containers", web1, "--all", env=env).stdout
    listed = json.loads(run_cli("containers", web1, "--json", env=env).stdout)
    assert {c["name"] for c in listed["containers"]} == {"api", "shop-web", "blog-db", "plain"}


def test_host_without_docker_has_no_containers_section(
    ssh_server: SshServer, run_cli: RunCli, env: dict[str, str]
) -> None:
    done = run_cli(
        "host", "add", "nodocker", "--address", ssh_server.host, "--port", str(ssh_server.port),
        "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key", "--docker-socket", "/run/vpshealth-test-no-such.sock", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    _, host = check(run_cli, env, "nodocker")
    assert host["containers"] is None
    assert host["problem"] not in ("docker_unavailable", "docker_permission_denied")


def test_socket_permission_denied_says_how_to_fix_it(
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, env: dict[str, str]
) -> None:
    docker_scenario.make_socket_unreadable()
    _, host = check(run_cli, env, web1)
    assert host["problem"] == "docker_permission_denied"
    assert host["state"] == "warning"
    assert "docker group" in host["message"]
    assert "vhtest" in host["message"]


def test_check_alone_notices_a_container_that_disappeared(
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, env: dict[str, str],
    vpshealth_home: Path,
) -> None:  # fmt: skip
    docker_scenario.run_sleeper("worker")
    check(run_cli, env, web1)
    docker_scenario.remove("worker")
    code, host = check(run_cli, env, web1)
    assert kinds(vpshealth_home) == [("disappeared", "worker")]
    assert code == 1
    assert host["state"] == "warning"
    assert [i["kind"] for i in host["incidents"]] == ["disappeared"]
    check(run_cli, env, web1)
    assert len(incidents(vpshealth_home)) == 1, "no duplicate on the next check"


def test_service_records_each_container_incident_once(
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, env: dict[str, str],
    vpshealth_home: Path,
) -> None:  # fmt: skip
    engine = docker_scenario
    engine.run_sleeper("removed-by-hand")
    engine.run_healthy("flaky")
    proc = start_service(env)
    try:
        wait_for(
            "the first container listing",
            lambda: "removed-by-hand" in run_cli("containers", web1, env=env).stdout,
            40,
        )
        wait_for(
            "CPU % from two of the service's polls",
            lambda: all(
                c["cpu_percent"] is not None
                for c in json.loads(run_cli("containers", web1, "--json", env=env).stdout)[
                    "containers"
                ]
            ),
            30,
        )
        engine.run_crash_loop("looper")
        engine.run_oom("hog")
        engine.run_turning_unhealthy("sickly", after_seconds=2)
        engine.remove("removed-by-hand")
        expected = {"restart_loop", "oom_killed", "unhealthy"}
        wait_for(
            "restart loop, OOM kill and unhealthy incidents",
            lambda: expected <= {k for k, _ in kinds(vpshealth_home)},
            60,
        )
        time.sleep(6)  # one more poll: the listing must not duplicate what events reported
        expected_open = [("restart_loop", "looper"), ("oom_killed", "hog"), ("unhealthy", "sickly")]
        assert sorted(kinds(vpshealth_home, open_only=True)) == sorted(expected_open)
        # The loop's first exit may have opened a crash before it was a loop: folded into it.
        folded = [i for i in incidents(vpshealth_home) if i[:2] == ("crashed", "looper")]
        assert all(resolved is not None for _, _, resolved in folded), folded
        assert sorted(kinds(vpshealth_home)) == sorted(
            expected_open + [("crashed", "looper")] * len(folded)
        )

        _, host = check(run_cli, env, web1)
        assert host["state"] == "critical"

        engine.remove("looper")
        engine.remove("sickly")
        wait_for(
            "the removed containers' incidents to resolve",
            lambda: (
                ("restart_loop", "looper") not in kinds(vpshealth_home, open_only=True)
                and ("unhealthy", "sickly") not in kinds(vpshealth_home, open_only=True)
            ),
            30,
        )

        assert not [k for k in kinds(vpshealth_home) if k[1] in ("removed-by-hand", "flaky")]
        # Stopping the daemon may fail a running health check on its way down: from here on
        # "flaky" may be reported unhealthy, as Docker says it was.
        engine.stop()
        wait_for(
            "docker_unavailable",
            lambda: ("docker_unavailable", "docker") in kinds(vpshealth_home, open_only=True),
            40,
        )
        engine.start()
        wait_for(
            "docker back",
            lambda: ("docker_unavailable", "docker") not in kinds(vpshealth_home, open_only=True),
            60,
        )
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    final = kinds(vpshealth_home)
    assert final.count(("docker_unavailable", "docker")) == 1, final
    assert final.count(("restart_loop", "looper")) == 1, final
    assert final.count(("oom_killed", "hog")) == 1, final
    assert final.count(("unhealthy", "sickly")) == 1, final
    assert not [k for k in final if k[1] == "removed-by-hand"], final
    assert "Traceback" not in err

    events = run_cli("events", web1, "--json", env=env)
    assert events.returncode == 0, events.stderr
    messages = [e["message"] for e in json.loads(events.stdout)["events"]]
    assert any("hog" in m and "memory" in m for m in messages), messages


def test_losing_access_to_docker_is_an_incident_until_it_returns(
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, env: dict[str, str],
    vpshealth_home: Path,
) -> None:  # fmt: skip
    docker_scenario.run_sleeper("app")
    _, host = check(run_cli, env, web1)
    assert host["state"] == "ok", host["message"]

    docker_scenario.make_socket_unreadable()
    code, host = check(run_cli, env, web1)
    assert code == 1
    assert (host["state"], host["problem"]) == ("critical", "docker_permission_denied")
    assert kinds(vpshealth_home, open_only=True) == [("docker_permission_denied", "docker")]
    check(run_cli, env, web1)
    assert len(incidents(vpshealth_home)) == 1, "still one incident on the next check"

    docker_scenario.make_socket_readable()
    _, host = check(run_cli, env, web1)
    assert host["state"] == "ok", host["message"]
    assert kinds(vpshealth_home, open_only=True) == []
    assert [c["name"] for c in host["containers"]] == ["app"]

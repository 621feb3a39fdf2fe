"""Coolify's apps as Coolify names and labels them (tests/fixtures/docker/coolify), started on
the real dockerd and watched through the real sshd: previews and stack members are apps of
their own, a database's proxy belongs to it, Coolify's own containers are infrastructure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.coolify import APP, DATABASE, SERVICE, app_labels, labels_of
from tests.integration.support.dockerd import IMAGE, DockerEngine
from tests.integration.support.service import start_service, stop_service, wait_for
from tests.integration.support.sshd import SshServer
from tests.integration.test_containers import check, kinds

pytestmark = pytest.mark.integration

PRODUCTION = f"{APP}-101512345678"
PREVIEW = f"{APP}-pr-12"
WORDPRESS = f"wordpress-{SERVICE}"
MARIADB = f"mariadb-{SERVICE}"
PROXY = f"{DATABASE}-proxy"
HELPER = "ws8w4ko0ckgs8ocs4cco4wg0"
HELPER_IMAGE = "ghcr.io/coollabsio/coolify-helper:1.0.15"
BACKUP = "backup-of-t0g4wscog84s4c8kgs0kk4oc"
INFRASTRUCTURE = (
    "coolify",
    "coolify-db",
    "coolify-proxy",
    "coolify-sentinel",
    "coolify-cloudflared",
)


@pytest.fixture
def web1(
    ssh_server: SshServer, docker_scenario: DockerEngine, run_cli: RunCli, cli_env: dict[str, str]
) -> str:
    done = run_cli(
        "host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
        "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key", "--interval", "5", "--docker-socket", docker_scenario.socket_path,
        env=cli_env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    quiet = run_cli(
        "rules", "--set", "load.warning=1000", "--set", "load.critical=1000", env=cli_env
    )
    assert quiet.returncode == 0, quiet.stderr
    return "web1"


def start_coolify_server(engine: DockerEngine) -> None:
    engine.run_sleeper(PRODUCTION, labels=app_labels(PRODUCTION))
    engine.run_sleeper(PREVIEW, labels=app_labels(PREVIEW, pull_request=12))
    for name in (WORDPRESS, MARIADB, DATABASE, PROXY, *INFRASTRUCTURE, BACKUP):
        engine.run_sleeper(name, labels=labels_of(name))
    engine.docker("tag", IMAGE, HELPER_IMAGE)
    engine.docker("run", "-d", "--name", HELPER, HELPER_IMAGE, "sleep", "3600")


def listed(run_cli: RunCli, env: dict[str, str], host: str) -> dict[str, dict[str, Any]]:
    done = run_cli("containers", host, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return {c["name"]: c for c in json.loads(done.stdout)["containers"]}


def test_coolify_apps_are_grouped_by_identity(
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    start_coolify_server(docker_scenario)
    proc = start_service(cli_env)
    try:
        wait_for("the first listing", lambda: PROXY in listed(run_cli, cli_env, web1), 40)
        containers = listed(run_cli, cli_env, web1)
        table = run_cli("containers", web1, env=cli_env).stdout
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    assert "Traceback" not in err
    blocks = {block.split("\n", 1)[0]: block for block in table.split("\n\n")}
    database_block = blocks["Coolify: shop / production / shop-db"]
    assert DATABASE in database_block
    assert PROXY in database_block, "the proxy is listed with its database"
    assert PREVIEW not in blocks["Coolify: shop / production / web"]
    for name in (*INFRASTRUCTURE, HELPER, BACKUP):
        assert name in blocks["Coolify infrastructure"], name
    assert containers[PRODUCTION]["group"]["identity"] == f"coolify/{APP}"
    assert containers[PREVIEW]["group"]["identity"] == f"coolify/{APP}/pr-12"
    assert containers[PREVIEW]["group"]["app"] == "shop / production / web (PR #12)"
    assert containers[MARIADB]["group"]["app"] == "blog / production / wordpress / mariadb"
    assert containers[PROXY]["group"]["identity"] == f"coolify/{DATABASE}/proxy"
    for name in (*INFRASTRUCTURE, HELPER, BACKUP):
        assert containers[name]["infrastructure"], name
    for name in (PRODUCTION, PREVIEW, WORDPRESS, MARIADB, DATABASE, PROXY):
        assert not containers[name]["infrastructure"], name


def test_coolify_infrastructure_is_marked(
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    start_coolify_server(docker_scenario)
    _, host = check(run_cli, cli_env, web1)
    infrastructure = {c["name"]: c["infrastructure"] for c in host["containers"]}
    assert {name for name, marked in infrastructure.items() if marked} == {
        *INFRASTRUCTURE, HELPER, BACKUP,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("removed", "still_up"),
    [(PRODUCTION, PREVIEW), (MARIADB, WORDPRESS)],
    ids=["production-while-its-preview-runs", "stack-member-while-its-sibling-runs"],
)
def test_a_running_sibling_does_not_hide_a_disappearance(
    removed: str, still_up: str,
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, cli_env: dict[str, str],
    vpshealth_home: Path,
) -> None:  # fmt: skip
    """Each ``check`` is a process of its own: it sees the container gone from the listing,
    not the removal (a service that sees the ``destroy`` event knows it was removed)."""
    engine = docker_scenario
    start_coolify_server(engine)
    check(run_cli, cli_env, web1)
    engine.remove(removed)
    _, host = check(run_cli, cli_env, web1)
    assert still_up in {c["name"] for c in host["containers"]}
    assert kinds(vpshealth_home, open_only=True) == [("disappeared", removed)]
    assert [i["kind"] for i in host["incidents"]] == ["disappeared"]


def test_the_service_sees_both_disappearances_despite_the_running_siblings(
    web1: str, docker_scenario: DockerEngine, run_cli: RunCli, cli_env: dict[str, str],
    vpshealth_home: Path,
) -> None:  # fmt: skip
    """Removed while the service was down (it sees no ``destroy`` event): on its return the
    listing no longer has them, though the preview and the stack's other member run."""
    engine = docker_scenario
    start_coolify_server(engine)
    proc = start_service(cli_env)
    try:
        wait_for("the first listing", lambda: PROXY in listed(run_cli, cli_env, web1), 40)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    engine.remove(PRODUCTION)
    engine.remove(MARIADB)
    proc = start_service(cli_env)
    try:
        expected = sorted([("disappeared", PRODUCTION), ("disappeared", MARIADB)])
        wait_for(
            "production's and mariadb's disappearance",
            lambda: sorted(kinds(vpshealth_home, open_only=True)) == expected,
            40,
        )
        containers = listed(run_cli, cli_env, web1)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    assert "Traceback" not in err
    assert {PREVIEW, WORDPRESS} <= set(containers)
    assert sorted(kinds(vpshealth_home)) == expected, "nothing else opened"

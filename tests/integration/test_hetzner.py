"""Hetzner Cloud end to end: `vpshealth hetzner add` and `import` against the local test API
(tests/integration/support/hetzner_api.py says what it models), with the real keyring, the
real database and a real sshd; and the running service naming why an imported server stopped
answering."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.hetzner_api import FakeServer, HetznerApi
from tests.integration.support.service import good_checks, start_service, stop_service, wait_for
from tests.integration.support.sshd import SshServer

pytestmark = pytest.mark.integration


@pytest.fixture
def api(ssh_server: SshServer) -> Iterator[HetznerApi]:
    api = HetznerApi()
    api.servers = [
        FakeServer(4201, "web1", ipv4=ssh_server.host, labels={"env": "prod", "role": "web"}),
        FakeServer(4202, "db1", ipv4=ssh_server.host, labels={"env": "prod"}),
    ]
    yield api
    api.close()


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


def _add_project(run_cli: RunCli, env: dict[str, str], api: HetznerApi) -> None:
    added = run_cli(
        "hetzner", "add", "web", "--token-stdin", "--api-endpoint", api.endpoint,
        input=api.token + "\n", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert f"Connected Hetzner Cloud project web ({len(api.servers)} servers)" in added.stdout


def _import(
    run_cli: RunCli, env: dict[str, str], ssh_server: SshServer, *more: str
) -> dict[str, Any]:
    done = run_cli(
        "hetzner", "import", "web", "--key-file", str(ssh_server.client_key_path),
        "--user", ssh_server.user, "--port", str(ssh_server.port), *more, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in more else {"text": done.stdout}


def test_import_creates_the_servers_once_and_updates_them_on_a_second_run(
    ssh_server: SshServer, api: HetznerApi, run_cli: RunCli, env: dict[str, str]
) -> None:
    _add_project(run_cli, env, api)
    listed = run_cli("hetzner", "list", "--json", env=env)
    assert json.loads(listed.stdout)["projects"] == [
        {"name": "web", "api_endpoint": api.endpoint, "hosts": 0}
    ]
    secrets = run_cli("secrets", "status", env=env)
    assert "the OS keyring" in secrets.stdout

    first = _import(run_cli, env, ssh_server, "--trust-host-keys", "--json")
    assert [(s["host"], s["action"], s["tags"]) for s in first["servers"]] == [
        ("web1", "added", ["env:prod", "role:web"]),
        ("db1", "added", ["env:prod"]),
    ]
    assert first["host_keys_not_trusted"] == []
    assert all(s["host_key_fingerprint"].startswith("SHA256:") for s in first["servers"])

    api.server(4201).labels = {"env": "staging"}
    api.servers.append(FakeServer(4203, "cache1", ipv4=None, ipv6_network=None))
    second = _import(run_cli, env, ssh_server)["text"]
    assert "0 added, 1 updated, 1 unchanged, 1 skipped." in second
    assert "it has no public IPv4 or IPv6 address" in second

    hosts = json.loads(run_cli("host", "list", "--json", env=env).stdout)["hosts"]
    by_name = {h["name"]: h for h in hosts}
    assert sorted(by_name) == ["db1", "localhost", "web1"], "never a duplicate"
    assert by_name["web1"]["tags"] == ["env:staging"]

    api.servers = [s for s in api.servers if s.id != 4202]
    third = _import(run_cli, env, ssh_server)["text"]
    assert "db1: server 4202 is no longer in the Hetzner Cloud project web; the host was kept" in (
        third
    )

    checked = run_cli("check", "web1", env=env)
    assert checked.returncode in (0, 1), checked.stderr
    assert "web1" in checked.stdout


def test_a_generated_key_is_shown_once_and_host_keys_wait_for_trust(
    ssh_server: SshServer, api: HetznerApi, run_cli: RunCli, env: dict[str, str]
) -> None:
    _add_project(run_cli, env, api)
    done = run_cli("hetzner", "import", "web", "--generate-key", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ssh-ed25519 ") == 1
    assert "Append this line to /root/.ssh/authorized_keys on each of them" in done.stdout
    assert "`vpshealth host trust web1`, `vpshealth host trust db1`" in done.stdout
    again = run_cli("hetzner", "import", "web", env=env)
    assert "ssh-ed25519 " not in again.stdout


def test_a_wrong_token_and_a_used_up_rate_limit_are_clear_and_save_nothing(
    api: HetznerApi, run_cli: RunCli, env: dict[str, str]
) -> None:
    wrong = run_cli(
        "hetzner", "add", "web", "--token-stdin", "--api-endpoint", api.endpoint,
        input="not-the-token\n", env=env,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert wrong.stderr.count("\n") == 1
    assert wrong.stderr.startswith("vpshealth: Hetzner Cloud project web: ")
    assert "401 unauthorized" in wrong.stderr
    assert "Nothing was saved." in wrong.stderr

    api.exhaust()
    limited = run_cli(
        "hetzner", "add", "web", "--token-stdin", "--api-endpoint", api.endpoint,
        input=api.token + "\n", env=env,
    )  # fmt: skip
    assert limited.returncode == 1
    assert "429 rate_limit_exceeded" in limited.stderr
    assert "try again after" in limited.stderr
    listed = run_cli("hetzner", "list", "--json", env=env)
    assert json.loads(listed.stdout) == {"projects": []}


def _incidents(run_cli: RunCli, env: dict[str, str]) -> list[dict[str, Any]]:
    done = run_cli("incidents", "web1", "--json", "--open", env=env)
    assert done.returncode in (0, 1), done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)["incidents"]
    return found


def test_an_unreachable_server_that_hetzner_says_is_off_is_powered_off(
    ssh_server: SshServer,
    api: HetznerApi,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    api.servers = api.servers[:1]
    _add_project(run_cli, env, api)
    _import(run_cli, env, ssh_server, "--trust-host-keys")
    for command in (
        ("host", "edit", "web1", "--interval", "5"),
        ("rules", "web1", "--set", "unreachable.polls=2", "--set", "load.warning=1000",
         "--set", "load.critical=1000"),
    ):  # fmt: skip
        done = run_cli(*command, env=env)
        assert done.returncode == 0, done.stderr

    proc = start_service(env)
    try:
        wait_for("two good checks of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        asked_before = len(api.requests)
        api.server(4201).status = "off"
        ssh_server.kill()
        wait_for("an open unreachable incident", lambda: _incidents(run_cli, env) != [], 60)
        [opened] = _incidents(run_cli, env)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    assert opened["rule"] == "unreachable"
    assert "powered off (Hetzner Cloud)" in opened["message"]
    notified = [line for line in err.splitlines() if "Notification (opened" in line]
    assert len(notified) == 1, notified
    assert "web1: not answering" in notified[0]
    assert "powered off (Hetzner Cloud)" in notified[0]
    assert len(api.requests) - asked_before <= 2, "far below the API's limit"


def test_a_server_in_rescue_mode_has_its_host_key_incident_explained(
    ssh_server: SshServer,
    api: HetznerApi,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    api.servers = api.servers[:1]
    _add_project(run_cli, env, api)
    _import(run_cli, env, ssh_server, "--trust-host-keys")
    for command in (
        ("host", "edit", "web1", "--interval", "5"),
        ("rules", "web1", "--set", "load.warning=1000", "--set", "load.critical=1000"),
    ):
        done = run_cli(*command, env=env)
        assert done.returncode == 0, done.stderr

    def rescue_explained() -> bool:
        found = _incidents(run_cli, env)
        return any("in rescue mode (Hetzner Cloud)" in i["message"] for i in found)

    proc = start_service(env)
    try:
        wait_for("two good checks of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        api.server(4201).rescue_enabled = True
        ssh_server.restart_with_new_host_key()
        wait_for("the host key incident explained", rescue_explained, 60)
        found = _incidents(run_cli, env)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    assert [i["rule"] for i in found] == ["host_key"], "one incident"
    assert "neither trusts it nor runs anything there" in found[0]["message"]

"""`--json` of host add/edit/trust and notify test, and `check --nagios`, through the real CLI
against a real OpenSSH server and a real SMTP server."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.smtp import SmtpServerFactory
from tests.integration.support.sshd import SshServer
from tests.integration.test_cli_ssh import add_args
from tests.integration.test_email_service import configure

pytestmark = pytest.mark.integration

# The load rule of a busy test machine must not change the state (the thresholds of
# CPU, memory and disks are out of reach in cli_env).
QUIET_LOAD = ["--set", "load.warning=999", "--set", "load.critical=1000"]


def run_json(run_cli: RunCli, env: dict[str, str], *argv: str) -> dict[str, Any]:
    done = run_cli(*argv, "--json", env=env)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def nagios(run_cli: RunCli, env: dict[str, str], name: str) -> tuple[int, str]:
    done = run_cli("check", name, "--nagios", env=env)
    assert done.stdout.count("\n") == 1, done.stdout
    return done.returncode, done.stdout.rstrip("\n")


def test_host_add_edit_trust_as_json_and_check_as_a_nagios_plugin(
    ssh_server: SshServer, run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    added = run_cli(
        *add_args(ssh_server, "web1", "--key-file", str(ssh_server.client_key_path)),
        "--trust-host-key", "--json", env=cli_env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert ssh_server.host_key_fingerprint in added.stderr, "the confirmation goes to stderr"
    data = json.loads(added.stdout)
    assert set(data) == {"host", "public_key", "first_check"}
    assert data["host"]["name"] == "web1"
    assert data["host"]["host_key_fingerprint"] == ssh_server.host_key_fingerprint
    assert data["public_key"] is None
    assert data["first_check"]["metrics"] is not None
    assert data["first_check"]["name"] == "web1"

    edited = run_json(run_cli, cli_env, "host", "edit", "web1", "--interval", "30")
    assert edited["host"]["interval_seconds"] == 30

    assert run_cli("rules", "web1", *QUIET_LOAD, env=cli_env).returncode == 0
    code, line = nagios(run_cli, cli_env, "web1")
    assert (code, line.split(" | ")[0]) == (0, "VPSHEALTH OK - web1: All good")
    assert re.search(r" 'disk_/'=[\d.]+%;1000;1000;0;100 ", line)

    assert run_cli("rules", "web1", "--set", "disk.warning=1", env=cli_env).returncode == 0
    code, line = nagios(run_cli, cli_env, "web1")
    assert code == 1
    assert line.startswith("VPSHEALTH WARNING - web1: disk / at ")
    assert re.search(r" 'disk_/'=[\d.]+%;1;1000;0;100 ", line)

    old = ssh_server.host_key_fingerprint
    ssh_server.restart_with_new_host_key()
    code, line = nagios(run_cli, cli_env, "web1")
    assert code == 2
    assert line.startswith("VPSHEALTH CRITICAL - web1: ")
    assert "CHANGED" in line
    trusted = run_json(run_cli, cli_env, "host", "trust", "web1", "--yes")
    assert trusted == {
        "name": "web1",
        "changed": True,
        "host_key_fingerprint": ssh_server.host_key_fingerprint,
    }
    assert trusted["host_key_fingerprint"] != old

    ssh_server.stop()
    code, line = nagios(run_cli, cli_env, "web1")
    assert code == 2, "a server that is down is CRITICAL, not UNKNOWN"
    assert line.startswith("VPSHEALTH CRITICAL - web1: ")
    assert "refused" in line


def test_notify_test_as_json(
    smtp_server: SmtpServerFactory, run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    server = smtp_server()
    configure(run_cli, cli_env, server, "--security", "none")
    sent = run_json(run_cli, cli_env, "notify", "test")
    assert sent == {
        "sent": True,
        "recipients": ["me@example.com"],
        "server": f"{server.host}:{server.port}",
        "security": "none",
        "answer": "250 OK: queued as TEST1",
    }
    server.stop()
    failed = run_cli("notify", "test", "--json", env=cli_env)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert len(failed.stderr.strip().splitlines()) == 1

"""End to end with the real sshd, dockerd, SMTP server and service: a Coolify app's container
that fails in the ways Coolify really sees is one incident, and every notification about it (the
e-mails and the stored notifications) names the server and the app.

(a) OOM-killed before the service first saw it, (b) dead within a second of starting, (c)
crash-looping during a redeploy, (d) a crash that turns into a restart loop (one opening, at
most one escalation), (e) Coolify's restart limit: the loop stays open after Coolify removes the
container until the app runs again.

Containers carry the labels of Coolify's ``defaultLabels`` (``bootstrap/helpers/docker.php``)
plus the compose project Coolify deploys an application under (its uuid), and are named
``{uuid}-{HHMMSS + microseconds}`` (``generateApplicationContainerName``)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.dockerd import DockerEngine
from tests.integration.support.service import start_service, stop_service, wait_for
from tests.integration.support.smtp import SmtpServer, SmtpServerFactory
from tests.integration.support.sshd import SshServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

INTERVAL = 5
BATCH = 5
UUID = "vgsco4o8cks0wkw4gg84kc4k"
APP = "shop / production / web"
FIRST = f"{UUID}-101514123456"
SECOND = f"{UUID}-113002654321"


def coolify_labels(container_name: str) -> dict[str, str]:
    """``defaultLabels(7, 'web', 'shop', 'web', 'production')`` and the compose labels of
    ``docker compose --project-name {uuid}`` with the container as its one service."""
    return {
        "coolify.managed": "true",
        "coolify.version": "4.0.0-beta.474",
        "coolify.applicationId": "7",
        "coolify.type": "application",
        "coolify.name": "web",
        "coolify.resourceName": "web",
        "coolify.projectName": "shop",
        "coolify.serviceName": "web",
        "coolify.environmentName": "production",
        "coolify.pullRequestId": "0",
        "com.docker.compose.project": UUID,
        "com.docker.compose.service": container_name,
    }


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


@dataclass
class Fleet:
    ssh: SshServer
    docker: DockerEngine
    mail: SmtpServer
    run_cli: RunCli
    env: dict[str, str]
    home: Path

    def configure(self) -> None:
        steps = [
            ("notify", "email", "--smtp-host", self.mail.host, "--smtp-port", str(self.mail.port),
             "--security", "none", "--from", "vps@example.com", "--to", "me@example.com",
             "--batch-seconds", str(BATCH)),
            ("rules", "--set", "load.warning=1000", "--set", "load.critical=1000"),
        ]  # fmt: skip
        for step in steps:
            self.cli(*step)

    def add_host(self) -> None:
        """``host add`` also checks the host once."""
        self.cli(
            "host", "add", "web1", "--address", self.ssh.host, "--port", str(self.ssh.port),
            "--user", self.ssh.user, "--key-file", str(self.ssh.client_key_path),
            "--trust-host-key", "--interval", str(INTERVAL),
            "--docker-socket", self.docker.socket_path,
        )  # fmt: skip

    def cli(self, *args: str) -> str:
        done = self.run_cli(*args, env=self.env)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout

    def incidents(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(self.cli("incidents", "web1", "--json"))[
            "incidents"
        ]
        return found

    def container_incidents(self) -> list[dict[str, Any]]:
        return [i for i in self.incidents() if i["subject"].startswith(UUID)]

    def notifications(self) -> list[dict[str, Any]]:
        """Every notification the service raised (all channels), oldest first."""
        conn = sqlite3.connect(self.home / "data" / "vpshealth.sqlite3", timeout=10)
        try:
            rows = conn.execute("SELECT payload FROM notifications ORDER BY id").fetchall()
        finally:
            conn.close()
        return [json.loads(row[0]) for row in rows]

    def run(self, name: str, *options: str, command: list[str]) -> str:
        labels = [f"--label={k}={v}" for k, v in coolify_labels(name).items()]
        done = self.docker.docker("run", "-d", "--name", name, *labels, *options, "vhbusy:latest",
                                  *command)  # fmt: skip
        return done.stdout.strip()

    def run_app(self, name: str) -> str:
        return self.run(name, "--restart", "unless-stopped", command=["sleep", "3600"])

    def run_crash_loop(self, name: str, run_seconds: float = 1) -> str:
        """Coolify's restart mode (``unless-stopped``), exits with 3 after ``run_seconds``."""
        return self.run(
            name,
            "--restart",
            "unless-stopped",
            command=["sh", "-c", f"sleep {run_seconds}; exit 3"],
        )

    def coolify_stops(self, name: str) -> None:
        """``StopApplication``: ``docker stop`` with the grace period, then ``docker rm -f``."""
        self.docker.docker("stop", "-t", "1", name)
        self.docker.docker("rm", "-f", name)

    def checks(self) -> int:
        """Checks of web1 stored so far, with or without a problem."""
        conn = sqlite3.connect(self.home / "data" / "vpshealth.sqlite3", timeout=10)
        try:
            row = conn.execute("SELECT count(*) FROM checks").fetchone()
        finally:
            conn.close()
        return int(row[0])

    def wait_checks(self, more: int) -> None:
        """``more`` checks after the ones stored now."""
        target = self.checks() + more
        wait_for(f"{more} more checks of web1", lambda: self.checks() >= target, 60)


@pytest.fixture
def fleet(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> Fleet:
    fleet = Fleet(ssh_server, docker_scenario, smtp_server(), run_cli, env, vpshealth_home)
    fleet.configure()
    return fleet


@contextlib.contextmanager
def service(fleet: Fleet) -> Iterator[None]:
    proc = start_service(fleet.env)
    try:
        yield
    finally:
        code, err = stop_service(proc)
    assert code == 0, err


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def assert_all_name_server_and_app(fleet: Fleet) -> list[dict[str, Any]]:
    """Every e-mail and every stored notification names web1 and the Coolify app; returns the
    notifications about the app's containers."""
    mails = [r.message for r in fleet.mail.messages]
    assert mails, "no e-mail"
    for mail in mails:
        assert "web1" in mail["Subject"], mail["Subject"]
        assert APP in mail["Subject"], mail["Subject"]
        assert f"web1 ({fleet.ssh.host}" in _text(mail)
        assert f"App: {APP}" in _text(mail) or APP in _text(mail)
    about = [n for n in fleet.notifications() if n["subject"].startswith(UUID)]
    assert about, fleet.notifications()
    for n in about:
        assert (n["host_name"], n["app"]) == ("web1", APP), n
        assert APP in n["title"], n
    return about


def settle(seconds: float = BATCH + 2 * INTERVAL) -> None:
    """Room for any further notification to (wrongly) arrive."""
    time.sleep(seconds)


def wait_until_true(what: str, predicate: Callable[[], object], timeout: float = 90) -> None:
    wait_for(what, predicate, timeout)


# --- (a) ----------------------------------------------------------------------------------


def test_a_container_oom_killed_before_the_service_saw_it_is_one_incident(fleet: Fleet) -> None:
    fleet.run(FIRST, "-m", "16m", "--memory-swap", "16m", command=["tail", "/dev/zero"])
    wait_until_true(
        "the OOM kill", lambda: fleet.docker.inspect(FIRST)["State"]["OOMKilled"], timeout=30
    )
    fleet.add_host()  # its first check sees the container for the first time
    with service(fleet):
        fleet.wait_checks(3)
        wait_until_true("the OOM e-mail", lambda: len(fleet.mail.messages) >= 1)
        settle()
        (incident,) = fleet.container_incidents()
        check = json.loads(fleet.cli("check", "web1", "--json"))
    assert (incident["rule"], incident["state"], incident["app"]) == ("oom_killed", "open", APP)
    (host,) = check["hosts"]
    assert host["state"] == "critical"
    assert [i["kind"] for i in host["incidents"]] == ["oom_killed"]
    about = assert_all_name_server_and_app(fleet)
    assert [n["kind"] for n in about] == ["opened"]
    assert len(fleet.mail.messages) == 1


# --- (b) ----------------------------------------------------------------------------------


def test_a_container_that_dies_within_a_second_of_starting_is_one_incident(fleet: Fleet) -> None:
    fleet.add_host()
    with service(fleet):
        fleet.wait_checks(2)
        fleet.run(FIRST, command=["sh", "-c", "sleep 0.2; exit 3"])
        wait_until_true("the crash e-mail", lambda: len(fleet.mail.messages) >= 1)
        settle()
        (incident,) = fleet.container_incidents()
    assert (incident["rule"], incident["state"], incident["app"]) == ("crashed", "open", APP)
    assert incident["message"] == f"{FIRST} ({APP}) crashed with exit code 3"
    about = assert_all_name_server_and_app(fleet)
    assert [n["kind"] for n in about] == ["opened"]
    assert len(fleet.mail.messages) == 1


# --- (c) ----------------------------------------------------------------------------------


def test_a_crash_looping_container_during_a_redeploy_is_one_incident(fleet: Fleet) -> None:
    fleet.run_app(FIRST)  # the deploy that runs
    fleet.add_host()
    with service(fleet):
        fleet.wait_checks(2)
        fleet.run_crash_loop(SECOND)  # the new deploy, beside it, crash-loops
        wait_until_true(
            "the restart loop",
            lambda: [i["rule"] for i in fleet.container_incidents()] == ["restart_loop"],
        )
        fleet.coolify_stops(SECOND)  # the deployment failed: Coolify removes the new container
        wait_until_true(
            "the recovery",
            lambda: [i["state"] for i in fleet.container_incidents()] == ["resolved"],
        )
        wait_until_true(
            "the recovery e-mail",
            lambda: any("was removed" in _text(r.message) for r in fleet.mail.messages),
        )
        settle()
        (incident,) = fleet.container_incidents()
    assert (incident["subject"], incident["app"]) == (SECOND, APP)
    assert incident["resolution"] == f"{SECOND} ({APP}) was removed"
    about = assert_all_name_server_and_app(fleet)
    kinds = [n["kind"] for n in about]
    assert kinds.count("opened") == 1, kinds
    assert kinds.count("escalated") <= 1, kinds
    assert kinds[-1] == "resolved", kinds


# --- (d) ----------------------------------------------------------------------------------


def test_a_crash_that_turns_into_a_restart_loop_is_one_incident_that_got_worse(
    fleet: Fleet,
) -> None:
    fleet.add_host()
    with service(fleet):
        fleet.wait_checks(2)
        fleet.run_crash_loop(FIRST, run_seconds=3)  # crashes 3 s after each start
        # On a busy machine the first poll after the crash may already see a loop (the same
        # incident, escalated; the notifications are checked below either way).
        wait_until_true(
            "the crash",
            lambda: (
                [i["rule"] for i in fleet.container_incidents()] in (["crashed"], ["restart_loop"])
            ),
        )
        wait_until_true(
            "the restart loop",
            lambda: [i["rule"] for i in fleet.container_incidents()] == ["restart_loop"],
        )
        wait_until_true(
            "the e-mail about the loop",
            lambda: any("restart loop" in r.message["Subject"] for r in fleet.mail.messages),
        )
        settle()
        incidents = fleet.container_incidents()
    (incident,) = incidents
    assert (incident["rule"], incident["state"]) == ("restart_loop", "open")
    assert incident["message"].startswith(f"{FIRST} ({APP}) keeps crashing: restarted ")
    about = assert_all_name_server_and_app(fleet)
    assert [n["kind"] for n in about] in (["opened"], ["opened", "escalated"])
    assert {n["incident_id"] for n in about} == {incident["id"]}
    if len(about) == 2:
        assert about[0]["rule"] == "crashed"
        assert (about[1]["rule"], about[1]["title"]) == ("restart_loop", f"restart loop of {APP}")
        assert about[1]["since"] == about[0]["since"]


# --- (e) ----------------------------------------------------------------------------------


def test_coolifys_restart_limit_keeps_the_loop_open_until_the_app_runs_again(
    fleet: Fleet,
) -> None:
    fleet.add_host()
    with service(fleet):
        fleet.wait_checks(2)
        fleet.run_crash_loop(FIRST)
        wait_until_true(
            "the restart loop",
            lambda: [i["rule"] for i in fleet.container_incidents()] == ["restart_loop"],
        )
        restarts = fleet.docker.inspect(FIRST)["RestartCount"]
        fleet.coolify_stops(FIRST)  # max_restart_count reached: StopApplication
        wait_until_true(
            "the loop marked as stopped by Coolify",
            lambda: "stopped by Coolify" in fleet.container_incidents()[0]["message"],
        )
        fleet.wait_checks(2)
        (held,) = fleet.container_incidents()
        host = json.loads(fleet.cli("check", "web1", "--json"))
        fleet.run_app(SECOND)  # redeployed (fixed): a new container of the same app
        wait_until_true(
            "the recovery",
            lambda: [i["state"] for i in fleet.container_incidents()] == ["resolved"],
            timeout=150,
        )
        wait_until_true(
            "the recovery e-mail",
            lambda: any("RESOLVED" in r.message["Subject"] for r in fleet.mail.messages),
        )
        (incident,) = fleet.container_incidents()
    assert held["state"] == "open"
    assert held["message"].startswith(f"{FIRST} ({APP}) was stopped by Coolify after ")
    assert restarts >= 3
    assert host["hosts"][0]["state"] == "critical"
    assert incident["resolution"].startswith(f"{APP} runs again: {SECOND} has been up for ")
    about = assert_all_name_server_and_app(fleet)
    kinds = [n["kind"] for n in about]
    assert kinds.count("opened") == 1, kinds
    assert kinds[-1] == "resolved", kinds

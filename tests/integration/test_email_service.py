"""E-mail through the real CLI and the real service process: `notify test` prints the SMTP
server's answer, the password stays in the keyring, and a queued e-mail survives SIGKILL of
the service and arrives once the server and the service are back."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.secret_service import SecretService
from tests.integration.support.service import (
    good_checks,
    start_service,
    stop_service,
    wait_for,
)
from tests.integration.support.smtp import SmtpServer, SmtpServerFactory
from tests.integration.support.sshd import SshServer
from tests.unit.email_helpers import make_notification

USER, PASSWORD = "alerts", "smtp-Secret-7f3a9c"


def configure(run_cli: RunCli, env: dict[str, str], server: SmtpServer, *extra: str) -> None:
    done = run_cli(
        "notify", "email", "--smtp-host", server.host, "--smtp-port", str(server.port),
        "--from", "vps@example.com", "--to", "me@example.com", *extra, env=env, input=PASSWORD,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def database(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "data" / "vpshealth.sqlite3", timeout=10)


def insert_notification(home: Path) -> int:
    """A row as the alerting engine writes it."""
    conn = database(home)
    try:
        host_id = conn.execute("SELECT id FROM hosts WHERE name = 'localhost'").fetchone()[0]
        item = make_notification(host_name="localhost", host_address="this computer")
        cursor = conn.execute(
            "INSERT INTO notifications (kind, severity, host_id, created_at, payload) "
            "VALUES (?, ?, ?, ?, ?)",
            (item.kind.value, item.severity.value, host_id, int(time.time()),
             json.dumps(item.to_json())),
        )  # fmt: skip
        conn.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid
    finally:
        conn.close()


def outbox_rows(home: Path) -> list[tuple[int, str, int]]:
    conn = database(home)
    try:
        return conn.execute("SELECT id, status, attempts FROM outbox ORDER BY id").fetchall()
    finally:
        conn.close()


def test_notify_test_prints_the_answer_and_the_password_stays_in_the_keyring(
    smtp_server: SmtpServerFactory, run_cli: RunCli, cli_env: dict[str, str], vpshealth_home: Path
) -> None:
    server = smtp_server(require_starttls=True, credentials=(USER, PASSWORD))
    configure(
        run_cli, cli_env, server, "--user", USER, "--ca-file", str(server.certs.ca_file),
        "--password-stdin",
    )  # fmt: skip
    shown = run_cli("notify", "show", env=cli_env)
    assert shown.returncode == 0, shown.stderr
    assert "set (OS keyring)" in shown.stdout

    sent = run_cli("notify", "test", env=cli_env)
    assert sent.returncode == 0, sent.stderr
    assert "The server answered: 250 OK: queued as TEST1" in sent.stdout
    (received,) = server.messages
    assert received.message["Subject"].startswith("[VPS Health] TEST ")
    assert server.recording.logins == [(USER, True)]

    for path in vpshealth_home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), f"SMTP password found in {path}"

    server.stop()
    failed = run_cli("notify", "test", env=cli_env)
    assert failed.returncode == 1
    assert len(failed.stderr.strip().splitlines()) == 1
    assert f"could not connect to 127.0.0.1:{server.port} (connection refused)" in failed.stderr


def test_a_wrong_password_fails_with_exit_1(
    smtp_server: SmtpServerFactory, run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    server = smtp_server(starttls=True, credentials=(USER, "something else"))
    configure(
        run_cli, cli_env, server, "--user", USER, "--ca-file", str(server.certs.ca_file),
        "--password-stdin",
    )  # fmt: skip
    failed = run_cli("notify", "test", env=cli_env)
    assert failed.returncode == 1
    assert f"refused the login of {USER}" in failed.stderr
    assert server.messages == []


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return cli_env


def test_a_queued_e_mail_survives_sigkill_of_the_service(
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
    secret_service: SecretService,
) -> None:
    server = smtp_server()
    configure(run_cli, env, server, "--security", "none", "--batch-seconds", "0")
    server.stop()

    first = start_service(env)
    try:
        notification = insert_notification(vpshealth_home)
        wait_for(
            "the e-mail to be queued and tried once while the server is down",
            lambda: [(s, a) for _, s, a in outbox_rows(vpshealth_home)] == [("pending", 1)],
            30,
        )
    finally:
        first.kill()  # SIGKILL, by the PID we started
        first.communicate(timeout=30)
    secret_service.revive()  # a client killed mid-request can make gnome-keyring abort
    assert server.messages == []

    server.start()
    second = start_service(env)
    try:
        # The first attempt set the next one 30 s later; a restart keeps that schedule.
        wait_for("the e-mail to arrive", lambda: len(server.messages) >= 1, 90)
        wait_for(
            "the outbox to mark it sent",
            lambda: [s for _, s, _ in outbox_rows(vpshealth_home)] == ["sent"],
            30,
        )
    finally:
        code, err = stop_service(second)
    assert code == 0, err
    assert "Sent e-mail" in err
    (received,) = server.messages
    assert received.message["Subject"] == (
        "[VPS Health] CRITICAL localhost: restart loop of shop / production / web"
    )
    assert "this computer" in received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    conn = database(vpshealth_home)
    try:
        state = conn.execute(
            "SELECT state, outbox_id FROM notification_deliveries "
            "WHERE notification_id = ? AND channel = 'email'",
            (notification,),
        ).fetchone()
    finally:
        conn.close()
    assert state == ("queued", outbox_rows(vpshealth_home)[0][0])


def test_an_incident_and_its_recovery_arrive_by_e_mail(
    ssh_server: SshServer,
    smtp_server: SmtpServerFactory,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    """End to end: the alerting writes the notifications, the e-mail worker sends them."""
    env = {**env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}
    server = smtp_server()
    configure(run_cli, env, server, "--security", "none", "--batch-seconds", "0")
    added = run_cli(
        "host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
        "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key", "--interval", "5", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    for args in (
        ("--set", "load.warning=1000", "--set", "load.critical=1000"),  # machine load: no alerts
        ("web1", "--set", "unreachable.polls=2"),
    ):
        rules = run_cli("rules", *args, env=env)
        assert rules.returncode == 0, rules.stderr

    proc = start_service(env)
    try:
        wait_for("a good check of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        ssh_server.kill()
        wait_for("the e-mail about web1", lambda: len(server.messages) >= 1, 90)
        ssh_server.start()
        wait_for("the e-mail about its recovery", lambda: len(server.messages) >= 2, 120)
    finally:
        code, err = stop_service(proc)
    assert code == 0, err
    opened, resolved = (r.message for r in server.messages)
    assert opened["Subject"].startswith("[VPS Health] CRITICAL web1: ")
    assert resolved["Subject"].startswith("[VPS Health] RESOLVED web1: ")
    body = opened.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert f"web1 ({ssh_server.host}" in text
    assert "Since:" in text
    assert [s for _, s, _ in outbox_rows(vpshealth_home)] == ["sent", "sent"]

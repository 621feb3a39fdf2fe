"""Alert channels tested by what arrives at a real HTTP server on loopback
(support/http_recorder.py): Apprise's json:// webhook, its ntfy plugin (``ntfy://`` is plain
HTTP to a server of one's own; ``ntfys://`` HTTPS) and its Gotify plugin; a channel whose
server is down retries and then delivers exactly once, also across a SIGKILL of the service.
The keyring is the real Secret Service of the tests (conftest ``secret_service``)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.http_recorder import HttpRecorder
from tests.integration.support.secret_service import SecretService
from tests.integration.support.service import start_service, stop_service, wait_for
from tests.unit.email_helpers import make_notification

pytestmark = pytest.mark.integration

GOTIFY_TOKEN = "AbCdEfGh1234567"


@pytest.fixture
def recorder() -> Iterator[HttpRecorder]:
    server = HttpRecorder()
    server.start()
    yield server
    server.stop()


def database(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "data" / "vpshealth.sqlite3", timeout=10)


def insert_notification(home: Path) -> int:
    """A crash-loop notification about this computer, as the alerting engine writes it."""
    conn = database(home)
    try:
        host_id = conn.execute("SELECT id FROM hosts WHERE name = 'localhost'").fetchone()[0]
        item = make_notification(
            host_name="localhost", host_address="this computer", log_lines="boot\npanic: no db"
        )
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


def outbox_rows(home: Path) -> list[tuple[str, str, int]]:
    conn = database(home)
    try:
        return conn.execute("SELECT channel, status, attempts FROM outbox ORDER BY id").fetchall()
    finally:
        conn.close()


def test_test_messages_reach_json_ntfy_and_gotify(
    recorder: HttpRecorder, run_cli: RunCli, cli_env: dict[str, str], vpshealth_home: Path
) -> None:
    base = f"{recorder.host}:{recorder.port}"
    for name, url in (
        ("hook", f"json://{base}/hook"),
        ("phone", f"ntfy://{base}/vps-alerts"),
        ("push", f"gotify://{base}/{GOTIFY_TOKEN}"),
    ):
        added = run_cli("notify", "channel", "add", name, "--url-stdin", input=url, env=cli_env)
        assert added.returncode == 0, added.stderr
        sent = run_cli("notify", "channel", "test", name, env=cli_env)
        assert sent.returncode == 0, sent.stderr
        assert f"Sent a test message to channel {name}" in sent.stdout

    hook, ntfy, gotify = recorder.requests
    assert (hook.method, hook.path) == ("POST", "/hook")
    assert hook.json()["title"].startswith("TEST ")
    assert "test message for channel hook" in hook.json()["title"]
    assert "alerts reach you here" in hook.json()["message"]
    assert ntfy.method == "POST"
    assert ntfy.json()["topic"] == "vps-alerts"
    assert ntfy.headers["X-Priority"] == "low"
    assert ntfy.headers["X-Tags"] == "test_tube"
    assert "test message for channel phone" in ntfy.json()["title"]
    assert gotify.path.startswith("/message")
    assert GOTIFY_TOKEN in gotify.path + json.dumps(gotify.headers)
    assert "test message for channel push" in gotify.json()["title"]

    listed = run_cli("notify", "channel", "list", env=cli_env)
    assert f"gotify://{base}/A…7" in listed.stdout
    assert GOTIFY_TOKEN not in listed.stdout
    for path in vpshealth_home.rglob("*"):
        if path.is_file():
            assert GOTIFY_TOKEN.encode() not in path.read_bytes(), path


def test_a_bad_url_is_exit_2_naming_the_channel_and_saves_nothing(
    run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    failed = run_cli("notify", "channel", "add", "team", "slack://nope", env=cli_env)
    assert failed.returncode == 2
    assert failed.stderr.startswith("vpshealth: channel team: invalid URL")
    assert len(failed.stderr.strip().splitlines()) == 1
    listed = run_cli("notify", "channel", "list", "--json", env=cli_env)
    assert json.loads(listed.stdout) == {"channels": []}


def test_a_channel_that_is_down_delivers_once_after_retries_and_a_sigkill(
    run_cli: RunCli,
    cli_env: dict[str, str],
    vpshealth_home: Path,
    secret_service: SecretService,
) -> None:
    down = HttpRecorder()  # not started: the port refuses connections
    added = run_cli(
        "notify", "channel", "add", "hook", f"json://{down.host}:{down.port}/hook",
        "--batch-seconds", "0", env=cli_env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    first = start_service(cli_env)
    try:
        wait_for(
            "the channel's worker to start",
            lambda: (
                (vpshealth_home / "logs" / "service.log").exists()
                and "Alert channel hook" in (vpshealth_home / "logs" / "service.log").read_text()
            ),
            30,
        )
        insert_notification(vpshealth_home)
        wait_for(
            "the message to be queued and tried once while its server is down",
            lambda: [(s, a) for _, s, a in outbox_rows(vpshealth_home)] == [("pending", 1)],
            30,
        )
    finally:
        first.kill()  # SIGKILL, by the PID we started
        first.communicate(timeout=30)
    secret_service.revive()  # a client killed mid-request can make gnome-keyring abort

    down.start()
    try:
        second = start_service(cli_env)
        try:
            wait_for("the message to arrive", lambda: len(down.requests) >= 1, 90)
            wait_for(
                "the outbox to mark it sent",
                lambda: [s for _, s, _ in outbox_rows(vpshealth_home)] == ["sent"],
                30,
            )
            time.sleep(5)  # room for a second delivery to (wrongly) arrive
        finally:
            code, err = stop_service(second)
        assert code == 0, err
    finally:
        down.stop()
    (received,) = down.requests
    body = received.json()
    assert body["title"] == "CRITICAL localhost: restart loop of shop / production / web"
    assert "App: shop / production / web" in body["message"]
    assert "panic: no db" in body["message"]
    assert "Sent hook message" in err

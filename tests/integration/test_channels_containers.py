"""End to end with the real sshd and dockerd: a Coolify app that crash-loops reaches an ntfy
topic and a JSON webhook (both served by a recording HTTP server on loopback), each exactly
once, naming the server and the app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.coolify import APP, app_labels
from tests.integration.support.dockerd import DockerEngine
from tests.integration.support.http_recorder import HttpRecorder
from tests.integration.support.service import good_checks, start_service, stop_service, wait_for
from tests.integration.support.sshd import SshServer

pytestmark = pytest.mark.integration

INTERVAL = 5
BATCH = 15
LOOPING = f"{APP}-101512345678"


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "VPSHEALTH_CONNECT_TIMEOUT": "3", "VPSHEALTH_COMMAND_TIMEOUT": "10"}


@pytest.fixture
def recorder() -> Iterator[HttpRecorder]:
    server = HttpRecorder()
    server.start()
    yield server
    server.stop()


def test_a_crash_looping_app_reaches_ntfy_and_a_webhook_once_each(
    ssh_server: SshServer,
    docker_scenario: DockerEngine,
    recorder: HttpRecorder,
    run_cli: RunCli,
    env: dict[str, str],
    vpshealth_home: Path,
) -> None:
    base = f"{recorder.host}:{recorder.port}"
    steps = [
        ("notify", "channel", "add", "phone", f"ntfy://{base}/vps-alerts",
         "--batch-seconds", str(BATCH)),
        ("notify", "channel", "add", "hook", f"json://{base}/hook", "--batch-seconds", str(BATCH)),
        ("host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
         "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
         "--trust-host-key", "--interval", str(INTERVAL),
         "--docker-socket", docker_scenario.socket_path),
        ("rules", "--set", "load.warning=1000", "--set", "load.critical=1000"),
    ]  # fmt: skip
    for step in steps:
        done = run_cli(*step, env=env)
        assert done.returncode == 0, done.stderr

    proc = start_service(env)
    try:
        wait_for("two good checks of web1", lambda: good_checks(vpshealth_home, "web1") >= 2, 40)
        docker_scenario.run_crash_loop(LOOPING, labels=app_labels(LOOPING))
        wait_for(
            "the restart-loop message on both channels",
            lambda: {r.path for r in recorder.requests} >= {"/", "/hook"},
            90,
        )
        time.sleep(BATCH + 2 * INTERVAL)  # room for any further message to (wrongly) arrive
    finally:
        code, err = stop_service(proc)
    assert code == 0, err

    ntfy = recorder.received("/")
    hooks = recorder.received("/hook")
    ntfy = [r for r in ntfy if r.path != "/hook"]
    assert len(ntfy) == 1, [r.text for r in ntfy]
    assert len(hooks) == 1, [r.text for r in hooks]
    pushed = ntfy[0].json()
    assert pushed["topic"] == "vps-alerts"
    assert ntfy[0].headers["X-Priority"] == "max"
    assert ntfy[0].headers["X-Tags"] == "rotating_light"
    for title, body in ((pushed["title"], pushed["message"]),
                        (hooks[0].json()["title"], hooks[0].json()["message"])):  # fmt: skip
        assert title.startswith("CRITICAL web1: "), title
        assert "restart loop" in title
        assert "shop / production / web" in title
        assert f"web1 ({ssh_server.host}:{ssh_server.port})" in body
        assert "App: shop / production / web" in body
        assert "Since " in body

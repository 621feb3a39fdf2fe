"""The node's dead man's switch, against a real service process and a recording HTTP server
on loopback: it pings every period while its checks run, a ping that fails is logged and tried
again the next round without holding up the checks, and the URL never lands in the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.support.cli import RunCli
from tests.integration.support.http_recorder import HttpRecorder
from tests.integration.support.service import recorded_checks, start_service, stop_service, wait_for

pytestmark = pytest.mark.integration

SECRET = "0b7e7b4c-1a2b-4c3d-9e8f-123456789abc"


@pytest.fixture
def recorder() -> Iterator[HttpRecorder]:
    server = HttpRecorder()
    server.start()
    yield server
    server.stop()


def test_the_service_pings_every_period_and_survives_a_dead_receiver(
    recorder: HttpRecorder, run_cli: RunCli, cli_env: dict[str, str], vpshealth_home: Path
) -> None:
    url = f"http://{recorder.host}:{recorder.port}/ping/{SECRET}"
    env = cli_env
    bad = run_cli("service", "heartbeat", "set", "--url-stdin", "--every", "3s", input=url, env=env)
    assert bad.returncode == 2
    assert bad.stderr.startswith("vpshealth: invalid every '3 s': ")
    assert len(bad.stderr.strip().splitlines()) == 1
    done = run_cli(
        "service", "heartbeat", "set", "--url-stdin", "--every", "10s", input=url, env=env
    )
    assert done.returncode == 0, done.stderr
    shown = run_cli("service", "heartbeat", "show", env=env)
    assert f"http://127.0.0.1:{recorder.port}/ping/0…c every 10s" in shown.stdout
    assert SECRET not in shown.stdout + done.stdout

    service = start_service(env)
    try:
        wait_for("two pings", lambda: len(recorder.received("/ping/")) >= 2, 40)
        first = recorder.received("/ping/")[0]
        assert (first.method, first.path) == ("GET", f"/ping/{SECRET}")
        assert first.headers["User-Agent"].startswith("vpshealth/")
        recorder.stop()
        checks = recorded_checks(vpshealth_home, "localhost")
        log = vpshealth_home / "logs" / "service.log"
        wait_for(
            "a failed ping in the log",
            lambda: "did not answer" in log.read_text(),
            30,
        )
        assert service.poll() is None
        # checks went on meanwhile (good or not: a busy test machine may be over a level)
        wait_for(
            "a check while the receiver is down",
            lambda: recorded_checks(vpshealth_home, "localhost") > checks,
            30,
        )
        recorder.start()
        before = len(recorder.received("/ping/"))
        wait_for("a ping once it is back", lambda: len(recorder.received("/ping/")) > before, 30)
        off = run_cli("service", "heartbeat", "off", env=env)
        assert off.returncode == 0
    finally:
        code, err = stop_service(service)
    assert code == 0, err
    assert SECRET not in log.read_text()
    for path in vpshealth_home.rglob("*.sqlite3*"):
        assert SECRET.encode() not in path.read_bytes(), path

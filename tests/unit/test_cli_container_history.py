"""`vpshealth history NAME METRIC --container APP`: a container's series, continuous across
deploys, picked by the app's path, a container's name or the identity."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.coolify_app import SECOND_DEPLOY, UUID, app_labels
from tests.unit.history_support import add_series, insert_samples
from vpshealth.cli.main import main
from vpshealth.domain.containers import Container, ContainerMetrics, ContainerState, ContainerView
from vpshealth.store.database import open_database
from vpshealth.store.docker_repository import replace_containers

NAME = SECOND_DEPLOY


@pytest.fixture
def home(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["service", "--once"]) in (0, 1)  # localhost, and the database
    engine = open_database(cli_home / "data" / "vpshealth.sqlite3")
    now = int(time.time())
    try:
        with engine.begin() as conn:
            host = int(conn.exec_driver_sql("SELECT id FROM hosts").scalar_one())
            container = Container(
                id="c" * 64,
                name=NAME,
                image="web:latest",
                created=now - 100,
                state=ContainerState.RUNNING,
                started_at=now - 99,
                labels=tuple(sorted(app_labels(NAME).items())),
            )
            view = ContainerView(container, ContainerMetrics(2.0, 50_000_000, None))
            replace_containers(conn, host, [view], now)
        memory = add_series(engine, host, f"container.memory_bytes:coolify/{UUID}")
        insert_samples(engine, memory, [(now - 600, 40e6), (now - 300, 50e6)])
        redis = add_series(engine, host, "container.cpu_percent:redis")
        insert_samples(engine, redis, [(now - 300, 1.0)])
    finally:
        engine.dispose()
    capsys.readouterr()
    return cli_home


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "container", ["shop/production/web", "shop / production / web", NAME, f"coolify/{UUID}"]
)
def test_a_container_history_by_path_name_or_identity(
    home: Path, capsys: pytest.CaptureFixture[str], container: str
) -> None:
    code, out, err = run(
        capsys, "history", "localhost", "memory", "--container", container, "--json"
    )
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["metric"] == f"container.memory_bytes:coolify/{UUID}"
    assert [p["value"] for p in data["points"]] == [40e6, 50e6]


def test_a_container_history_as_a_table(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "history", "localhost", "memory", "--container", "shop/production/web"
    )
    assert code == 0
    assert f"container.memory_bytes:coolify/{UUID}" in out.splitlines()[0]
    assert "5e+07" in out


def test_an_unknown_container_names_the_host_and_lists_what_is_there(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "history", "localhost", "cpu", "--container", "shop/staging")
    assert (code, out) == (2, "")
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "localhost" in lines[0]
    assert "'shop/staging'" in lines[0]
    assert "shop/production/web" in lines[0]
    assert "redis" in lines[0]


def test_a_host_metric_is_not_a_container_metric(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "history", "localhost", "load", "--container", "redis")
    assert code == 2
    assert "cpu or memory" in err

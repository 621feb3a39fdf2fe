"""A desktop's copy of a real node (`vpshealth service --api` checking a real sshd), caught
up in this process: equal to the node's database row by row after an incident opened and
closed and after the node was stopped (SIGSTOP) for a while; a catch-up cut off after its
first history page resumes and ends equal; the follower brings a new incident into the copy
within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from tests.integration.support.api import ApiNode, api_node
from tests.integration.support.cli import RunCli
from tests.integration.support.service import wait_for
from tests.integration.support.sshd import SshServer
from tests.sync_compare import differences
from vpshealth.clock import SystemClock
from vpshealth.store.database import open_database, open_reader
from vpshealth.store.schema import incidents
from vpshealth.sync.catch_up import catch_up
from vpshealth.sync.follower import Follower
from vpshealth.sync.replica import Replica

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("load_out_of_reach")]

MARGIN = 10
"""Seconds asked again on each catch-up: small, so that a gap would show in a short test."""


def add_web1(run_cli: RunCli, env: dict[str, str], ssh_server: SshServer) -> None:
    added = run_cli(
        "host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
        "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key", "--interval", "5", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    rules = run_cli("rules", "web1", "--set", "unreachable.polls=1", env=env)
    assert rules.returncode == 0, rules.stderr


def node_query(home: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(home / "data" / "vpshealth.sqlite3", timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def open_incidents(home: Path) -> list[object]:
    return [r[0] for r in node_query(home, "SELECT kind FROM incidents WHERE resolved_at IS NULL")]


def client_of(node: ApiNode) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=node.url, headers={"Authorization": f"Bearer {node.token}"}, timeout=30
    )


def quiesce(run_cli: RunCli, env: dict[str, str], home: Path) -> None:
    """Every host disabled and no check recorded for a while: the node's database stands
    still, so that it can be compared with a copy."""
    for (name,) in node_query(home, "SELECT name FROM hosts"):
        done = run_cli("host", "edit", str(name), "--disable", env=env)
        assert done.returncode == 0, done.stderr
    last = (-1, 0.0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        count = int(node_query(home, "SELECT count(*) FROM checks")[0][0])  # type: ignore[call-overload]
        if count != last[0]:
            last = (count, time.monotonic())
        elif time.monotonic() - last[1] > 8:
            return
        time.sleep(0.5)
    raise AssertionError("the node kept recording checks with every host disabled")


@pytest.mark.timeout(300)
def test_the_copy_equals_the_node_after_an_incident_and_a_stopped_node(
    ssh_server: SshServer, run_cli: RunCli, cli_env: dict[str, str], vpshealth_home: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    add_web1(run_cli, cli_env, ssh_server)
    copy = open_database(tmp_path / "node-copy.sqlite3")
    with api_node(cli_env) as node:
        stored = "SELECT 1 FROM samples UNION SELECT 1 FROM staged_samples"
        wait_for("checks of web1", lambda: node_query(vpshealth_home, stored), 30)

        async def sync() -> None:
            async with client_of(node) as client:
                await catch_up(client, copy, SystemClock(), margin=MARGIN)

        asyncio.run(sync())
        ssh_server.stop()
        wait_for("an unreachable incident", lambda: open_incidents(vpshealth_home), 30)
        ssh_server.start()
        wait_for("the incident to resolve", lambda: not open_incidents(vpshealth_home), 60)
        node.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(20)
        finally:
            node.proc.send_signal(signal.SIGCONT)
        wait_for("checks after the pause", lambda: node_query(
            vpshealth_home, f"SELECT 1 FROM checks WHERE checked_at > {int(time.time()) - 2}"
        ), 30)  # fmt: skip
        asyncio.run(sync())
        quiesce(run_cli, cli_env, vpshealth_home)
        asyncio.run(sync())

        node_engine = open_reader(vpshealth_home / "data" / "vpshealth.sqlite3")
        try:
            assert differences(node_engine, copy) == []
            resolved = node_query(vpshealth_home, "SELECT count(*) FROM incidents")
            assert resolved[0][0] >= 1  # type: ignore[operator]

            cut = open_database(tmp_path / "cut-copy.sqlite3")
            asyncio.run(cut_off_then_resume(node, cut))
            assert differences(node_engine, cut) == []
            cut.dispose()
        finally:
            node_engine.dispose()
    copy.dispose()


async def cut_off_then_resume(node: ApiNode, copy: Engine) -> None:
    first_page = asyncio.Event()

    async def seen(response: httpx.Response) -> None:
        if "/sync/history" in str(response.url):
            first_page.set()

    async with client_of(node) as client:
        client.event_hooks["response"].append(seen)
        task = asyncio.create_task(catch_up(client, copy, SystemClock(), series_per_page=2))
        await first_page.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    cursor = Replica(copy).cursor()
    assert cursor.node_id is not None
    assert cursor.history_since is None  # the history pass had not ended
    async with client_of(node) as client:
        report = await catch_up(client, copy, SystemClock(), series_per_page=2)
    assert report.history_pages >= 2


@pytest.mark.timeout(180)
def test_the_follower_brings_a_new_incident_into_the_copy_within_seconds(
    ssh_server: SshServer, run_cli: RunCli, cli_env: dict[str, str], vpshealth_home: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    add_web1(run_cli, cli_env, ssh_server)
    copy = open_database(tmp_path / "node-copy.sqlite3")

    def open_in_copy() -> list[str]:
        with copy.connect() as conn:
            found = conn.execute(select(incidents.c.kind).where(incidents.c.resolved_at.is_(None)))
            return list(found.scalars())

    with api_node(cli_env) as node:

        @contextlib.asynccontextmanager
        async def connect() -> AsyncIterator[httpx.AsyncClient]:
            async with client_of(node) as client:
                yield client

        async def scenario() -> float:
            follower = Follower(connect, copy, SystemClock())
            task = asyncio.create_task(follower.run())
            try:
                async with asyncio.timeout(30):
                    while not follower.status.connected:
                        await asyncio.sleep(0.1)
                assert open_in_copy() == []
                await asyncio.to_thread(ssh_server.stop)
                async with asyncio.timeout(40):
                    while not open_incidents(vpshealth_home):
                        await asyncio.sleep(0.1)
                opened = time.monotonic()
                async with asyncio.timeout(10):
                    while open_in_copy() != ["unreachable"]:
                        await asyncio.sleep(0.1)
                assert follower.status.last_error is None
                return time.monotonic() - opened
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        delay = asyncio.run(scenario())
    copy.dispose()
    assert delay < 5, delay

"""The live stream of a real `vpshealth service --api` (uvicorn on loopback) with a real
`websockets` client: check messages as the service records them, a reconnect with
``?after=SEQ`` that gets exactly what it missed (compared with the database's ``live_log``)
and then the live messages, and a wrong token refused at the handshake."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.integration.support.api import ApiNode, api_node
from tests.integration.support.cli import RunCli
from tests.integration.support.service import wait_for
from tests.integration.support.sshd import SshServer

pytestmark = pytest.mark.integration


def open_stream(node: ApiNode, query: str = "", token: str | None = None) -> ClientConnection:
    return connect(
        f"{node.ws_url}/api/v1/live{query}",
        additional_headers={"Authorization": f"Bearer {token or node.token}"},
        proxy=None,
        open_timeout=30,
    )


def receive(ws: ClientConnection, timeout: float = 30) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return message


def logged_seqs(home: Path, after: int, until: int) -> list[int]:
    conn = sqlite3.connect(home / "data" / "vpshealth.sqlite3", timeout=10)
    try:
        rows = conn.execute(
            "SELECT seq FROM live_log WHERE seq > ? AND seq <= ? ORDER BY seq", (after, until)
        ).fetchall()
    finally:
        conn.close()
    return [row[0] for row in rows]


def last_logged(home: Path) -> int:
    conn = sqlite3.connect(home / "data" / "vpshealth.sqlite3", timeout=10)
    try:
        return int(conn.execute("SELECT coalesce(max(seq), 0) FROM live_log").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.usefixtures("load_out_of_reach")
def test_a_client_that_reconnects_after_seq_gets_exactly_what_it_missed_then_live_ones(
    ssh_server: SshServer, run_cli: RunCli, cli_env: dict[str, str], vpshealth_home: Path
) -> None:
    with api_node(cli_env) as node:
        added = run_cli(
            "host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
            "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
            "--trust-host-key", "--interval", "5", env=cli_env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr

        with open_stream(node) as ws:
            first: list[dict[str, Any]] = []
            while sum(1 for m in first if m["kind"] == "check" and m["host"] == "web1") < 2:
                first.append(receive(ws))
        last = first[-1]["seq"]
        check = next(m for m in first if m["kind"] == "check" and m["host"] == "web1")
        assert check["data"]["state"] in {"ok", "warning"}  # load per core: a busy machine
        assert check["data"]["memory_percent"] is not None
        assert check["at"].endswith("Z")
        assert [m["seq"] for m in first] == sorted({m["seq"] for m in first})

        wait_for("more messages recorded while away", lambda: last_logged(vpshealth_home)
                 >= last + 3, 60)  # fmt: skip
        missed_until = last_logged(vpshealth_home)
        with open_stream(node, f"?after={last}") as ws:
            again = [receive(ws)]
            while again[-1]["seq"] < missed_until + 2:  # the backlog, then live ones
                again.append(receive(ws))
        received = [m["seq"] for m in again]
        assert received == logged_seqs(vpshealth_home, last, received[-1])
        assert received[0] == last + 1
        assert len(received) == len(set(received))

        with open_stream(node, "?after=0&kinds=state") as ws:
            firsts: set[str] = set()
            while len(firsts) < 2:  # each host's first state, whatever came between
                state = receive(ws, timeout=10)
                assert state["kind"] == "state"
                if state["data"]["old_state"] is None:
                    firsts.add(state["host"])
        assert firsts == {"localhost", "web1"}

        with pytest.raises(InvalidStatus) as refused:
            open_stream(node, token="vph_not-a-token")
        assert refused.value.response.status_code == 401
        started = time.monotonic()
        with pytest.raises(InvalidStatus) as bad:
            open_stream(node, "?kinds=cpu")
        assert bad.value.response.status_code == 400
        assert b"kinds: unknown kind 'cpu'" in bad.value.response.body
        assert time.monotonic() - started < 10
    assert "API: wrong token from 127.0.0.1" in node.log

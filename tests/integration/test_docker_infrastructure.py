"""The Docker fixtures start a real, working engine (no vpshealth code involved).

The SSH tests take the path the product takes: log in as the plain user ``vhtest`` and
open the remote Docker socket as a stream with asyncssh's ``open_unix_connection``.
"""

from __future__ import annotations

import asyncio
import grp
import os
import stat
from collections.abc import Callable
from typing import Any

import asyncssh
import pytest

from tests.integration.support.dockerd import IMAGE, DockerEngine, ping
from tests.integration.support.procs import wait_until
from tests.integration.support.sshd import SshServer


async def _connect(server: SshServer) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        server.host,
        port=server.port,
        username=server.user,
        client_keys=[str(server.client_key_path)],
        known_hosts=([asyncssh.import_public_key(server.host_public_key)], [], []),
        agent_path=None,
        config=None,
        connect_timeout=10,
    )


async def _http_get(conn: asyncssh.SSHClientConnection, socket_path: str, path: str) -> bytes:
    """GET ``path`` from the remote Docker socket over the SSH connection; return the body."""
    reader, writer = await conn.open_unix_connection(socket_path)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: docker\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        status, *header_lines = head.decode("latin-1").split("\r\n")
        assert status.startswith("HTTP/1.1 200 "), status
        headers = dict(
            line.split(":", 1) for line in header_lines if line
        )  # the engine sends Content-Length for these small answers
        length = int(next(v for k, v in headers.items() if k.lower() == "content-length"))
        return await asyncio.wait_for(reader.readexactly(length), timeout=10)
    finally:
        writer.close()


def _wait_state(
    engine: DockerEngine, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float
) -> dict[str, Any]:
    """Poll ``docker inspect`` until ``predicate(inspect)`` holds; return the last inspect."""
    last: dict[str, Any] = {}

    def check() -> bool:
        nonlocal last
        last = engine.inspect(name)
        return predicate(last)

    assert wait_until(check, timeout=timeout, interval=0.2), (
        f"{name}: condition not reached in {timeout}s; State={last.get('State')}, "
        f"RestartCount={last.get('RestartCount')}"
    )
    return last


def _health(info: dict[str, Any]) -> str | None:
    health = info["State"].get("Health")
    return health["Status"] if health else None


def _assert_socket_normal(engine: DockerEngine) -> None:
    st = os.stat(engine.socket_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert st.st_uid == 0
    assert st.st_gid == grp.getgrnam("docker").gr_gid
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert stat.S_IMODE(os.stat(engine.root).st_mode) == 0o711


def test_docker_ps_lists_a_running_container(docker_scenario: DockerEngine) -> None:
    engine = docker_scenario
    _assert_socket_normal(engine)
    assert engine.container_ids() == []  # docker_scenario starts each test empty
    assert engine.docker("image", "inspect", IMAGE).returncode == 0

    cid = engine.run_coolify("web", project="shop", environment="production", resource="web")
    names = engine.docker("ps", "--format", "{{.ID}} {{.Names}} {{.Status}}").stdout
    assert f"{cid[:12]} web Up" in names
    labels = engine.inspect("web")["Config"]["Labels"]
    assert labels["coolify.managed"] == "true"
    assert labels["coolify.projectName"] == "shop"


async def test_vhtest_reaches_docker_socket_over_ssh(
    docker_scenario: DockerEngine, ssh_server: SshServer
) -> None:
    engine = docker_scenario
    engine.run_compose("db", project="shop", service="db")
    async with await _connect(ssh_server) as conn:
        groups = await conn.run("id -Gn", check=True, timeout=10)
        assert "docker" in str(groups.stdout).split()  # new membership, new session

        assert await _http_get(conn, engine.socket_path, "/_ping") == b"OK"
        listing = await _http_get(conn, engine.socket_path, "/containers/json")
    assert b'"/db"' in listing
    assert b'"com.docker.compose.project":"shop"' in listing


async def test_unreadable_socket_refuses_the_channel(
    docker_scenario: DockerEngine, ssh_server: SshServer
) -> None:
    engine = docker_scenario
    async with await _connect(ssh_server) as conn:
        engine.make_socket_unreadable()
        with pytest.raises(asyncssh.ChannelOpenError) as excinfo:
            await conn.open_unix_connection(engine.socket_path)
        assert excinfo.value.code == asyncssh.OPEN_CONNECT_FAILED
        assert excinfo.value.reason == "open failed"

        engine.make_socket_readable()  # the same connection works again
        assert await _http_get(conn, engine.socket_path, "/_ping") == b"OK"


def test_crash_loop_restart_count_climbs(docker_scenario: DockerEngine) -> None:
    docker_scenario.run_crash_loop("loop")
    info = _wait_state(docker_scenario, "loop", lambda i: i["RestartCount"] > 2, timeout=12)
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "always"


def test_oom_killed_container(docker_scenario: DockerEngine) -> None:
    docker_scenario.run_oom("oom")
    # The engine may record the exit a moment before it handles the kernel's OOM event.
    info = _wait_state(
        docker_scenario,
        "oom",
        lambda i: i["State"]["Status"] == "exited" and i["State"]["OOMKilled"] is True,
        15,
    )
    assert info["State"]["ExitCode"] == 137


def test_container_turns_unhealthy(docker_scenario: DockerEngine) -> None:
    docker_scenario.run_turning_unhealthy("api", after_seconds=3)
    docker_scenario.run_healthy("steady")
    _wait_state(docker_scenario, "api", lambda i: _health(i) == "healthy", timeout=8)
    _wait_state(docker_scenario, "api", lambda i: _health(i) == "unhealthy", timeout=10)
    assert _health(docker_scenario.inspect("steady")) == "healthy"
    assert docker_scenario.inspect("api")["State"]["Status"] == "running"


def test_engine_stop_and_start(docker_scenario: DockerEngine) -> None:
    engine = docker_scenario
    engine.run_sleeper("idle")
    engine.run_crash_loop("loop")
    pid = engine.pid

    engine.stop()
    assert not engine.running
    assert not ping(engine.socket_path)

    engine.start()
    assert engine.running
    assert engine.pid != pid
    _assert_socket_normal(engine)
    assert ping(engine.socket_path)
    # Without live-restore the engine stopped its containers; restart=always brings back one.
    assert engine.inspect("idle")["State"]["Status"] == "exited"
    _wait_state(engine, "loop", lambda i: i["State"]["Status"] in {"running", "restarting"}, 10)

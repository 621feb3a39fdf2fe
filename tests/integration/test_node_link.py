"""`vpshealth node connect | status | disconnect` as real processes: a real node (`vpshealth
service --api 127.0.0.1:PORT` with a token from `vpshealth api token create`), reached through
the real sshd (an SSH tunnel to the node's loopback) or over https with a test CA; a revoked
token and a changed node host key are refused with a clear message, and nothing local is
lost."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.integration.support.api import api_node, create_token
from tests.integration.support.cli import RunCli
from tests.integration.support.node_link import api_port, ssh_connect
from tests.integration.support.procs import free_port
from tests.integration.support.service import start_service, stop_service, wait_for
from tests.integration.support.smtp import make_certificates
from tests.integration.support.ssh_agent import ssh_agent
from tests.integration.support.sshd import SshServer
from tests.unit.operations_support import MemoryKeyring
from vpshealth.clock import SystemClock
from vpshealth.config import Paths, Settings
from vpshealth.domain.hosts import AuthMethod
from vpshealth.secrets import SecretStore
from vpshealth.sync.catch_up import catch_up
from vpshealth.sync.node_address import parse_node_address
from vpshealth.sync.node_link import NodeLink
from vpshealth.sync.node_session import NodeError, NodeProblem
from vpshealth.sync.replica import open_copy
from vpshealth.sync.tunnel import open_node_session

pytestmark = pytest.mark.integration


@pytest.fixture
def desktop_env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The desktop: its own VPSHEALTH_HOME, the same test keyring as the node."""
    home = tmp_path / "desktop-home"
    home.mkdir()
    return {**cli_env, "VPSHEALTH_HOME": str(home)}


def settings_of(env: dict[str, str]) -> dict[str, str]:
    conn = sqlite3.connect(Path(env["VPSHEALTH_HOME"]) / "data" / "vpshealth.sqlite3")
    try:
        return dict(conn.execute("SELECT key, value FROM settings WHERE key LIKE 'node.%'"))
    finally:
        conn.close()


def make_copy(env: dict[str, str]) -> Path:
    """A stand-in for the local copy the sync engine keeps: it must come out untouched."""
    path = Path(env["VPSHEALTH_HOME"]) / "data" / "node-copy.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")  # as the sync engine's copy is
    conn.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT, updated_at INT)")
    conn.execute("INSERT INTO settings VALUES ('sync.synced_at', '1800000000.0', 0)")
    conn.execute("INSERT INTO settings VALUES ('sync.live_seq', '42', 0)")
    conn.commit()
    conn.close()
    return path


def rows_of(copy: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(copy)
    try:
        return conn.execute("SELECT * FROM settings ORDER BY key").fetchall()
    finally:
        conn.close()


def test_connect_through_the_ssh_tunnel_and_read_the_status(
    run_cli: RunCli, cli_env: dict[str, str], desktop_env: dict[str, str], ssh_server: SshServer
) -> None:
    with api_node(cli_env) as node:
        connected = ssh_connect(run_cli, desktop_env, ssh_server, api_port(node.url), node.token)
        assert connected.returncode == 0, connected.stderr
        assert connected.stdout.startswith(
            f"Connected to the node ssh://vhtest@127.0.0.1:{ssh_server.port} (SSH tunnel to its "
            f"port {api_port(node.url)}): it answers"
        )
        status = run_cli("node", "status", env=desktop_env)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "Answers:    yes" in status.stdout
        assert f"Host key:   {ssh_server.host_key_fingerprint}" in status.stdout
        assert "Last sync:  never synced" in status.stdout
        make_copy(desktop_env)
        synced = run_cli("node", "status", "--json", env=desktop_env)
        assert '"live_seq": 42' in synced.stdout
        assert '"last_synced_at": "2027-01-15T08:00:00Z"' in synced.stdout
    stored = settings_of(desktop_env)
    assert stored["node.address"] == f'"ssh://vhtest@127.0.0.1:{ssh_server.port}"'
    dumped = "\n".join(stored.values())
    assert node.token not in dumped
    assert "PRIVATE KEY" not in dumped
    assert "API: wrong token" not in node.log


def test_a_revoked_token_is_refused_and_nothing_local_is_lost(
    run_cli: RunCli, cli_env: dict[str, str], desktop_env: dict[str, str], ssh_server: SshServer
) -> None:
    token = create_token(cli_env, "laptop")
    with api_node(cli_env) as node:
        connected = ssh_connect(run_cli, desktop_env, ssh_server, api_port(node.url), token)
        assert connected.returncode == 0, connected.stderr
        copy = make_copy(desktop_env)
        before = (rows_of(copy), settings_of(desktop_env))
        revoked = run_cli("api", "token", "revoke", "laptop", env=cli_env)
        assert revoked.returncode == 0, revoked.stderr
        status = run_cli("node", "status", env=desktop_env)
        assert status.returncode == 1
        assert "refused the token (HTTP 401): it was revoked" in status.stdout
        assert "vpshealth api token create" in status.stdout
        assert "The local copy is kept." in status.stdout
        assert "Last sync:  2027-01-15T08:00:00Z" in status.stdout
        assert (rows_of(copy), settings_of(desktop_env)) == before
        again = ssh_connect(run_cli, desktop_env, ssh_server, api_port(node.url), token)
        assert again.returncode == 1
        assert again.stderr.count("\n") == 1
        assert "refused the token (HTTP 401)" in again.stderr
        assert again.stderr.strip().endswith("Nothing was saved.")
        assert (rows_of(copy), settings_of(desktop_env)) == before
    assert "API: wrong token from 127.0.0.1" in node.log


def test_a_changed_node_host_key_is_refused_until_trusted_again(
    run_cli: RunCli, cli_env: dict[str, str], desktop_env: dict[str, str], ssh_server: SshServer
) -> None:
    with api_node(cli_env) as node:
        port = api_port(node.url)
        assert ssh_connect(run_cli, desktop_env, ssh_server, port, node.token).returncode == 0
        copy = make_copy(desktop_env)
        before = (rows_of(copy), settings_of(desktop_env))
        old_fingerprint = ssh_server.host_key_fingerprint
        ssh_server.restart_with_new_host_key()
        status = run_cli("node", "status", env=desktop_env)
        assert status.returncode == 1
        assert (
            f"the host key of the node ssh://vhtest@127.0.0.1:{ssh_server.port} has CHANGED "
            "since it was trusted; nothing was sent"
        ) in status.stdout
        assert (
            f"run `vpshealth node connect ssh://vhtest@127.0.0.1:{ssh_server.port} "
            "--trust-host-key ...` again"
        ) in status.stdout
        assert (rows_of(copy), settings_of(desktop_env)) == before
        old = ssh_connect(
            run_cli,
            desktop_env,
            ssh_server,
            port,
            node.token,
            "--host-key-fingerprint",
            old_fingerprint,
        )
        assert old.returncode == 1
        assert f"not the expected {old_fingerprint.rstrip('=')}" in old.stderr
        unconfirmed = ssh_connect(run_cli, desktop_env, ssh_server, port, node.token, "--json")
        assert unconfirmed.returncode == 2
        assert "--trust-host-key" in unconfirmed.stderr
        assert f"Trusted host key of the node ssh://vhtest@127.0.0.1:{ssh_server.port}" in (
            unconfirmed.stderr
        )
        assert (rows_of(copy), settings_of(desktop_env)) == before
        trusted = ssh_connect(
            run_cli, desktop_env, ssh_server, port, node.token, "--trust-host-key"
        )
        assert trusted.returncode == 0, trusted.stderr
        status = run_cli("node", "status", env=desktop_env)
        assert status.returncode == 0, status.stdout
        assert f"Host key:   {ssh_server.host_key_fingerprint}" in status.stdout


def test_refusals_of_the_ssh_login_and_of_the_api_port_name_the_node(
    run_cli: RunCli, cli_env: dict[str, str], desktop_env: dict[str, str], ssh_server: SshServer
) -> None:
    token = create_token(cli_env, "laptop")
    closed = free_port()
    nothing = ssh_connect(run_cli, desktop_env, ssh_server, closed, token)
    assert nothing.returncode == 1
    assert (
        f"accepted the SSH login, but nothing answers on its port {closed}: is `vpshealth "
        f"service --api 127.0.0.1:{closed}` running there?"
    ) in nothing.stderr
    stranger = ssh_connect(
        run_cli, desktop_env, ssh_server, closed, token, key=ssh_server.make_unauthorized_key()
    )
    assert stranger.returncode == 1
    assert f"the node ssh://vhtest@127.0.0.1:{ssh_server.port} refused the SSH login as " in (
        stranger.stderr
    )
    assert "'vhtest': check that the public key is in ~vhtest/.ssh/authorized_keys" in (
        stranger.stderr
    )
    ssh_server.stop()
    down = ssh_connect(run_cli, desktop_env, ssh_server, closed, token, "--trust-host-key")
    assert down.returncode == 1
    assert f"the node ssh://vhtest@127.0.0.1:{ssh_server.port}: cannot read the host key" in (
        down.stderr
    )
    assert settings_of(desktop_env) == {}
    disconnected = run_cli("node", "disconnect", env=desktop_env)
    assert disconnected.returncode == 0
    assert "Not connected to a node" in disconnected.stdout


@contextmanager
def https_node(env: dict[str, str], certs_dir: Path) -> Iterator[tuple[str, Path]]:
    certs = make_certificates(certs_dir)
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    proc = start_service(
        env,
        "--api",
        f"127.0.0.1:{port}",
        "--tls-cert",
        str(certs.cert_file),
        "--tls-key",
        str(certs.key_file),
    )

    trusted = ssl.create_default_context(cafile=str(certs.ca_file))

    def answers() -> bool:
        try:
            return httpx.get(f"{url}/api/v1/health", verify=trusted).is_success
        except httpx.HTTPError:
            return False

    try:
        wait_for("the https API to answer", lambda: proc.poll() is not None or answers(), 40)
        assert proc.poll() is None, proc.communicate()[1]
        yield url, certs.ca_file
    except BaseException:
        stop_service(proc)
        raise
    code, log = stop_service(proc)
    assert code == 0, log


def test_connect_over_https_with_a_private_ca_and_disconnect(
    run_cli: RunCli, cli_env: dict[str, str], desktop_env: dict[str, str], tmp_path: Path
) -> None:
    token = create_token(cli_env, "laptop")
    with https_node(cli_env, tmp_path / "certs") as (url, ca_file):
        untrusted = run_cli("node", "connect", url, "--token-stdin", input=token, env=desktop_env)
        assert untrusted.returncode == 1
        assert "TLS certificate is not trusted" in untrusted.stderr
        assert "--ca-file" in untrusted.stderr
        connected = run_cli(
            "node",
            "connect",
            url,
            "--ca-file",
            str(ca_file),
            "--token-stdin",
            "--json",
            input=token,
            env=desktop_env,
        )
        assert connected.returncode == 0, connected.stderr
        assert '"how": "https"' in connected.stdout
        status = run_cli("node", "status", env=desktop_env)
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"Node:       {url} (https)" in status.stdout
    gone = run_cli("node", "status", env=desktop_env)
    assert gone.returncode == 1
    assert f"cannot reach the node {url}" in gone.stdout
    copy = make_copy(desktop_env)
    forgotten = run_cli("node", "disconnect", env=desktop_env)
    assert forgotten.returncode == 0
    assert f"Forgot the node {url}; its token was deleted from " in forgotten.stdout
    assert f"The local copy stays in {copy}." in forgotten.stdout
    assert copy.exists()
    assert settings_of(desktop_env) == {}


async def test_a_session_through_the_tunnel_gives_the_client_and_the_live_stream(
    cli_env: dict[str, str], ssh_server: SshServer
) -> None:
    """What the sync engine is handed: ``session.client`` on the API, ``ws_url`` for the live
    stream, both through one SSH connection to a listener on this computer's loopback."""
    keyring = MemoryKeyring()
    secrets = SecretStore(keyring)
    with api_node(cli_env) as node:
        address = parse_node_address(
            f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}", api_port(node.url)
        )
        link = NodeLink(
            address,
            token_ref="node-token/test",
            connected_at=0,
            host_key=ssh_server.host_public_key,
            auth=AuthMethod.KEY,
            key_ref="ssh-key/test",
        )
        secrets.put("node-token/test", node.token)
        secrets.put("ssh-key/test", ssh_server.client_key_path.read_text())
        async with open_node_session(link, secrets) as session:
            assert str(session.client.base_url).startswith("http://127.0.0.1:")
            health = await session.check()
            assert health.hosts == 1
            hosts = (await session.client.get("/api/v1/hosts")).json()["hosts"]
            assert [h["name"] for h in hosts] == ["localhost"]
            url = session.ws_url("/api/v1/live?after=0")
            assert url.startswith("ws://127.0.0.1:")
            async with ws_connect(url, additional_headers=session.headers) as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), 30))
            assert first["seq"] >= 1
            forwarded = [c for c in psutil.Process().net_connections() if c.status == "LISTEN"]
            assert all(c.laddr.ip == "127.0.0.1" for c in forwarded)
            ssh_server.stop()
            with pytest.raises(NodeError) as lost:
                await session.check()
            assert lost.value.problem is NodeProblem.UNREACHABLE
            assert f"lost the SSH connection to the node {address.text}" in str(lost.value)
        ssh_server.start()
        secrets.put("node-token/test", "vph_not-the-token")
        async with open_node_session(link, secrets) as session:
            with pytest.raises(NodeError) as refused:
                await session.check()
        assert refused.value.problem is NodeProblem.TOKEN_REFUSED


def test_a_node_that_accepts_and_never_answers_is_given_up_on_quickly(
    run_cli: RunCli, desktop_env: dict[str, str], hung_listener: int
) -> None:
    url = f"https://127.0.0.1:{hung_listener}"
    started = time.monotonic()
    hung = run_cli("node", "connect", url, "--token-stdin", input="vph_x\n", env=desktop_env)
    assert time.monotonic() - started < 20
    assert hung.returncode == 1
    assert f"the node {url} did not answer in time" in hung.stderr
    assert hung.stderr.strip().endswith("Nothing was saved.")
    assert settings_of(desktop_env) == {}


def test_connect_with_the_ssh_agent_keeps_no_key(
    run_cli: RunCli,
    cli_env: dict[str, str],
    desktop_env: dict[str, str],
    ssh_server: SshServer,
    tmp_path: Path,
) -> None:
    with api_node(cli_env) as node, ssh_agent(tmp_path, ssh_server.client_key_path) as sock:
        env = {**desktop_env, "SSH_AUTH_SOCK": sock}
        address = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}"
        common = ("--api-port", str(api_port(node.url)), "--trust-host-key", "--token-stdin")
        connected = run_cli(
            "node", "connect", address, "--agent", *common, input=node.token, env=env
        )
        assert connected.returncode == 0, connected.stderr
        assert run_cli("node", "status", env=env).returncode == 0
        stored = settings_of(desktop_env)
        assert stored["node.auth"] == '"agent"'
        assert "node.key_ref" not in stored
        without = run_cli("node", "status", env=desktop_env)
        assert without.returncode == 1
        assert "SSH_AUTH_SOCK is not set" in without.stdout


def test_an_encrypted_login_key_and_its_passphrase_go_to_the_keyring(
    run_cli: RunCli, cli_env: dict[str, str], desktop_env: dict[str, str], ssh_server: SshServer
) -> None:
    key = ssh_server.make_encrypted_client_key("node pass phrase")
    with api_node(cli_env) as node:
        env = {**desktop_env, "VPSHEALTH_KEY_PASSPHRASE": "node pass phrase"}
        connected = ssh_connect(run_cli, env, ssh_server, api_port(node.url), node.token, key=key)
        assert connected.returncode == 0, connected.stderr
        status = run_cli("node", "status", env=desktop_env)  # the passphrase from the keyring
        assert status.returncode == 0, status.stdout
    assert "node pass phrase" not in "\n".join(settings_of(desktop_env).values())


async def test_a_catch_up_through_the_tunnel_shows_in_node_status(
    run_cli: RunCli, cli_env: dict[str, str], desktop_env: dict[str, str], ssh_server: SshServer
) -> None:
    """The link made by `node connect`, the sync engine's catch-up through a session on it,
    and `node status` reading the copy's last sync."""
    secrets = SecretStore(MemoryKeyring())
    with api_node(cli_env) as node:
        port = api_port(node.url)
        assert ssh_connect(run_cli, desktop_env, ssh_server, port, node.token).returncode == 0
        address = parse_node_address(f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}", port)
        link = NodeLink(
            address,
            "node-token/t",
            0,
            host_key=ssh_server.host_public_key,
            auth=AuthMethod.KEY,
            key_ref="ssh-key/k",
        )
        secrets.put("node-token/t", node.token)
        secrets.put("ssh-key/k", ssh_server.client_key_path.read_text())
        copy = open_copy(Paths.from_settings(Settings(home=Path(desktop_env["VPSHEALTH_HOME"]))))
        try:
            async with open_node_session(link, secrets) as session:
                await catch_up(session.client, copy, SystemClock())
        finally:
            copy.dispose()
        status = await asyncio.to_thread(run_cli, "node", "status", "--json", env=desktop_env)
    shown = json.loads(status.stdout)
    assert status.returncode == 0, status.stderr
    assert shown["answers"] is True
    assert shown["last_synced_at"] is not None
    assert shown["lag_seconds"] < 60
    assert shown["live_seq"] >= 0


def copy_hosts(env: dict[str, str]) -> list[str]:
    conn = sqlite3.connect(Path(env["VPSHEALTH_HOME"]) / "data" / "node-copy.sqlite3")
    try:
        return [name for (name,) in conn.execute("SELECT name FROM hosts ORDER BY name")]
    finally:
        conn.close()


def test_node_sync_then_follow_keep_the_copy_up_to_date(
    run_cli: RunCli, cli_env: dict[str, str], desktop_env: dict[str, str], ssh_server: SshServer
) -> None:
    """`node sync` catches the copy up through the tunnel; `node follow` (a real process)
    brings a host added on the node into the copy, and stops on SIGINT."""
    not_yet = run_cli("node", "sync", env=desktop_env)
    assert not_yet.returncode == 2
    assert not_yet.stderr.startswith("vpshealth: This computer is not connected to a node")
    with api_node(cli_env) as node:
        port = api_port(node.url)
        assert ssh_connect(run_cli, desktop_env, ssh_server, port, node.token).returncode == 0
        synced = run_cli("node", "sync", "--json", env=desktop_env)
        assert synced.returncode == 0, synced.stderr
        report = json.loads(synced.stdout)
        assert report["bytes_received"] > 0
        assert report["started_over"] is False
        assert copy_hosts(desktop_env) == ["localhost"]
        again = run_cli("node", "sync", env=desktop_env)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith("Caught up with the node in ")

        before = synced_at(desktop_env)
        follow = subprocess.Popen(
            [sys.executable, "-m", "vpshealth", "node", "follow"],
            env=desktop_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            wait_for("the follower's catch-up", lambda: synced_at(desktop_env) != before, 30)
            added = run_cli(
                "host", "add", "web9", "--address", ssh_server.host, "--port",
                str(ssh_server.port), "--user", ssh_server.user, "--key-file",
                str(ssh_server.client_key_path), "--trust-host-key", env=cli_env,
            )  # fmt: skip
            assert added.returncode == 0, added.stderr
            wait_for("web9 in the copy", lambda: "web9" in copy_hosts(desktop_env), 30)
        finally:
            follow.send_signal(signal.SIGINT)  # the process this test started
            _, err = follow.communicate(timeout=30)
        assert follow.returncode == 130, err
        assert "Traceback" not in err
        status = run_cli("node", "status", "--json", env=desktop_env)
        assert json.loads(status.stdout)["last_synced_at"] is not None


def synced_at(env: dict[str, str]) -> str | None:
    conn = sqlite3.connect(Path(env["VPSHEALTH_HOME"]) / "data" / "node-copy.sqlite3")
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = 'sync.synced_at'").fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()

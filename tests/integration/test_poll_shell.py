"""The poll shell against a real OpenSSH sshd: one long-lived shell per connection, started
again when it dies, given up for hosts that cannot keep one, and bounded by the timeout."""

from __future__ import annotations

import asyncio
import logging
import signal

import psutil
import pytest

from tests.integration.support.ssh_connection import CountingConnection, connection
from tests.integration.support.sshd import SshServer
from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.poll_shell import PollShell
from vpshealth.collectors.procfs_parsers import parse_snapshot
from vpshealth.collectors.remote_commands import DONE_MARKER
from vpshealth.domain.health import Problem


def shells_of(server: SshServer) -> list[psutil.Process]:
    found = []
    for proc in server.session_processes():
        try:
            if DONE_MARKER.strip() in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


async def test_checks_on_one_connection_share_one_shell(
    conn: CountingConnection, ssh_server: SshServer
) -> None:
    shell = PollShell(conn)
    first = parse_snapshot(await shell.sample(first=True))
    assert first.cpu_times_previous is not None  # two CPU samples half a second apart
    for _ in range(3):
        snapshot = parse_snapshot(await shell.sample(first=False))
        assert snapshot.cpu_times_previous is None
        assert snapshot.memory.total_bytes > 0
        assert any(disk.mount == "/" for disk in snapshot.disks)
    assert (conn.sessions, conn.commands) == (1, 0)
    assert len(shells_of(ssh_server)) == 1
    shell.close()


async def test_a_shell_that_was_killed_is_started_again(
    conn: CountingConnection, ssh_server: SshServer
) -> None:
    shell = PollShell(conn)
    await shell.sample(first=False)
    (remote,) = shells_of(ssh_server)
    remote.send_signal(signal.SIGKILL)
    remote.wait(timeout=10)
    parse_snapshot(await shell.sample(first=False))
    assert (conn.sessions, conn.commands) == (2, 0)
    shell.close()


async def test_a_host_that_cannot_keep_a_shell_gets_one_command_per_check(
    ssh_server: SshServer,
) -> None:
    # A forced command that allows the one-off poll commands but not a shell that stays.
    key = ssh_server.make_forced_command_key(
        'case "$SSH_ORIGINAL_COMMAND" in *"read -r c t"*) exit 1;; esac\n'
        'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n'
    )
    restricted = connection(ssh_server, key)
    shell = PollShell(restricted)
    try:
        parse_snapshot(await shell.sample(first=True))
        parse_snapshot(await shell.sample(first=False))
        parse_snapshot(await shell.sample(first=False))
    finally:
        shell.close()
        await restricted.close()
    assert (restricted.sessions, restricted.commands) == (1, 3)


async def test_a_shell_that_stops_answering_times_out_and_the_next_check_reconnects(
    ssh_server: SshServer,
) -> None:
    slow = connection(ssh_server, command_timeout=2.0)
    shell = PollShell(slow)
    try:
        await shell.sample(first=False)
        (remote,) = shells_of(ssh_server)
        remote.send_signal(signal.SIGSTOP)
        with pytest.raises(CollectionError) as caught:
            await shell.sample(first=False)
        assert caught.value.problem is Problem.TIMEOUT
        assert "web1" in caught.value.message
        assert not slow.is_connected
        remote.send_signal(signal.SIGCONT)
        parse_snapshot(await shell.sample(first=False))
        assert slow.sessions == 2
    finally:
        shell.close()
        await slow.close()


async def test_a_lost_connection_is_reported_as_unreachable(ssh_server: SshServer) -> None:
    conn = connection(ssh_server)
    shell = PollShell(conn)
    try:
        await shell.sample(first=False)
        ssh_server.kill()
        with pytest.raises(CollectionError) as caught:
            await shell.sample(first=False)
        assert caught.value.problem in (Problem.UNREACHABLE, Problem.TIMEOUT)
        assert "web1" in caught.value.message
    finally:
        shell.close()
        await conn.close()


async def test_session_keys_are_renewed_under_a_running_shell(
    ssh_server: SshServer, caplog: pytest.LogCaptureFixture
) -> None:
    conn = connection(ssh_server, rekey_seconds=1)
    shell = PollShell(conn)
    try:
        with caplog.at_level(logging.DEBUG, logger="asyncssh"):
            await shell.sample(first=False)
            await asyncio.sleep(1.5)  # past the renewal time (1 s plus nothing random)
            for _ in range(3):
                parse_snapshot(await shell.sample(first=False))
    finally:
        await conn.close()
    requested = [r for r in caplog.records if "Requesting key exchange" in r.getMessage()]
    assert len(requested) >= 2  # the first exchange and at least one renewal
    assert conn.sessions == 1  # the same shell answered before and after

"""Each request goes out as one SSH packet: no empty IGNORE packet in front of it (see
``collectors.ssh_packets``), checked against a real OpenSSH sshd."""

from __future__ import annotations

from tests.integration.support.ssh_connection import CountingConnection
from vpshealth.collectors.poll_shell import PollShell
from vpshealth.collectors.ssh import CIPHER_PREFERENCE


def test_no_cbc_cipher_is_offered() -> None:
    """The IGNORE packets are only needed with CBC ciphers."""
    assert CIPHER_PREFERENCE
    assert not any("cbc" in cipher for cipher in CIPHER_PREFERENCE)


async def test_a_check_sends_one_packet(conn: CountingConnection) -> None:
    shell = PollShell(conn)
    await shell.sample(first=False)  # opens the channel and starts the shell
    link = await conn.connect()
    sent_before = link._send_seq  # asyncssh's sequence number: packets sent on this link
    output = await shell.sample(first=False)
    assert "@@vpshealth:end" in output
    assert link._send_seq - sent_before == 1
    shell.close()


async def test_commands_still_work_after_many_requests(conn: CountingConnection) -> None:
    shell = PollShell(conn)
    for _ in range(30):
        assert "@@vpshealth:meminfo" in await shell.sample(first=False)
    assert await conn.run("echo done") == "done\n"
    shell.close()

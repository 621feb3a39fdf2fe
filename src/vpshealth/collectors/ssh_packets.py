"""SSH connections that send each packet once, without asyncssh's empty SSH_MSG_IGNORE.

asyncssh puts an empty SSH_MSG_IGNORE in front of every packet it sends once the link is
encrypted: a countermeasure against an attack on CBC ciphers, whose next IV is predictable.
VPS Health never offers a CBC cipher (see ``ssh.CIPHER_PREFERENCE``: AES-GCM, ChaCha20-Poly1305
and AES-CTR, none of them exposed to it), and OpenSSH's ``ssh`` does not send these packets
either. Here they doubled what a check costs to send: two encryptions and two ``send(2)``
calls per request instead of one.
"""

from __future__ import annotations

from typing import Final

import asyncssh
from asyncssh.constants import MSG_IGNORE
from asyncssh.packet import SSHPacketLogger, String

_EMPTY_IGNORE_ARGS: Final = (String(b""),)


class _SinglePacketConnection(asyncssh.SSHClientConnection):
    def send_packet(
        self, pkttype: int, *args: bytes, handler: SSHPacketLogger | None = None
    ) -> None:
        if pkttype == MSG_IGNORE and args == _EMPTY_IGNORE_ARGS:
            return
        super().send_packet(pkttype, *args, handler=handler)


def send_without_ignore_packets(conn: asyncssh.SSHClientConnection) -> None:
    """From now on ``conn`` sends no empty IGNORE packets. Only for connections that were
    opened with ``ssh.CIPHER_PREFERENCE``, which holds no CBC cipher."""
    conn.__class__ = _SinglePacketConnection

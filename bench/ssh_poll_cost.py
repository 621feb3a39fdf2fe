"""Client-side cost of one check over SSH against a real OpenSSH sshd on loopback (started
here, as in the integration tests; needs root and openssh-server), three ways: the poll shell
the engine uses (one long-lived shell per connection, asked once per check), a command per
check on a reused connection, and a new connection per check.

    uv run python bench/ssh_poll_cost.py [--polls 200]

Prints wall time and this process's CPU time per check. Not a test: figures depend on the
machine.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.support.sshd import SshServer
from vpshealth.collectors.poll_shell import PollShell
from vpshealth.collectors.procfs_parsers import parse_snapshot
from vpshealth.collectors.remote_commands import POLL_COMMAND
from vpshealth.collectors.ssh import SshConnection, SshOptions
from vpshealth.collectors.ssh_keys import ClientCredentials
from vpshealth.domain.hosts import Host


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


METHODS = {
    "poll shell (the engine)": "shell",
    "command per check, reused": "command",
    "new connection per check": "new",
}


async def measure(server: SshServer, polls: int, method: str) -> tuple[float, float]:
    host = Host(
        name="bench",
        address=server.host,
        port=server.port,
        user=server.user,
        host_key=server.host_public_key,
    )
    creds = ClientCredentials(private_key=server.client_key_path.read_text())
    conn = SshConnection(host, creds, SshOptions())
    shell = PollShell(conn)

    async def check() -> None:
        if method == "shell":
            parse_snapshot(await shell.sample(first=False))
        else:
            parse_snapshot(await conn.run(POLL_COMMAND))

    await check()  # warm up
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    for _ in range(polls):
        if method == "new":
            await conn.close()
        await check()
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    shell.close()
    await conn.close()
    return wall / polls * 1000, cpu / polls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--polls", type=int, default=200)
    args = parser.parse_args()
    server = SshServer.create()
    try:
        for label, method in METHODS.items():
            wall_ms, cpu_ms = asyncio.run(measure(server, args.polls, method))
            print(f"{label:26s} {wall_ms:7.2f} ms wall  {cpu_ms:7.2f} ms client CPU per check")
    finally:
        server.close()


if __name__ == "__main__":
    main()

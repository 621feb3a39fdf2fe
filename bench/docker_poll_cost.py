"""Cost of one container listing over SSH with N containers: list + inspect each + one-shot
stats of each, through the host's SSH connection to a real dockerd (both started here, as in
the integration tests; needs root, openssh-server and docker.io).

    uv run python bench/docker_poll_cost.py [--containers 50] [--polls 20] [--streams 3]

Prints wall time and this process's CPU time per listing.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.support.dockerd import DockerEngine
from tests.integration.support.sshd import SshServer
from vpshealth.collectors.docker_access import ssh_opener
from vpshealth.collectors.docker_collector import DockerCollector
from vpshealth.collectors.ssh import SshConnection, SshOptions
from vpshealth.collectors.ssh_keys import ClientCredentials
from vpshealth.domain.hosts import Host


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(
    server: SshServer, socket: str, polls: int, streams: int
) -> tuple[float, float, int]:
    host = Host(
        name="bench",
        address=server.host,
        port=server.port,
        user=server.user,
        host_key=server.host_public_key,
    )
    ssh = SshConnection(
        host, ClientCredentials(private_key=server.client_key_path.read_text()), SshOptions()
    )
    collector = DockerCollector(ssh_opener(ssh, socket), streams=streams)
    listing = await collector.collect()  # warm up: connection and streams open
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    for _ in range(polls):
        listing = await collector.collect()
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    collector.close()
    await ssh.close()
    return wall / polls * 1000, cpu / polls * 1000, len(listing.containers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--polls", type=int, default=20)
    parser.add_argument("--streams", type=int, default=3)
    args = parser.parse_args()
    engine = DockerEngine.create()
    server = SshServer.create()
    try:
        for i in range(args.containers):
            engine.run_sleeper(f"bench{i:03d}")
        wall_ms, cpu_ms, seen = asyncio.run(
            measure(server, engine.socket_path, args.polls, args.streams)
        )
        print(
            f"{seen} containers, {args.streams} streams: {wall_ms:.1f} ms wall, "
            f"{cpu_ms:.1f} ms client CPU per listing"
        )
    finally:
        server.close()
        engine.close()


if __name__ == "__main__":
    main()

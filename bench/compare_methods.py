"""Client CPU per check, five ways of running the poll command over SSH, side by side:

  (a) one OpenSSH ``ssh`` process per check (BatchMode, strict host-key checking against a
      known_hosts file written here; its CPU counted through RUSAGE_CHILDREN), with the
      client's default key exchange (OpenSSH 9.x: the post-quantum sntrup761x25519, which
      alone costs the client over 100 ms of CPU), and (a') forced to curve25519-sha256, the
      key exchange paramiko and asyncssh use here
  (b) a fresh paramiko connection per check
  (c) a fresh asyncssh connection per check (our SshConnection, closed after every check)
  (d) a reused asyncssh connection with a new command (channel) per check
  (e) ours, as the engine does: the poll shell (vpshealth.collectors.poll_shell) on a reused
      connection, one shell per connection asked once per check

Every method parses the output with ``parse_snapshot``, so parsing is in every figure.

    uv run python bench/compare_methods.py [--checks 100] [--reused-checks 500] \\
        [--server sshd|fleet] [--json out.json]

``--server sshd`` (default) runs a real OpenSSH sshd on loopback, as the integration tests do
(needs root and openssh-server); ``--server fleet`` uses one host of bench/fleet.py instead.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncssh
import paramiko
from bench.fleet import FleetProcess

from tests.integration.support.sshd import SshServer
from vpshealth.collectors.docker_access import DockerAccess, DockerAccessError, ssh_opener
from vpshealth.collectors.poll_shell import PollShell
from vpshealth.collectors.procfs_parsers import parse_snapshot
from vpshealth.collectors.remote_commands import POLL_COMMAND
from vpshealth.collectors.ssh import SshConnection, SshOptions
from vpshealth.collectors.ssh_keys import ClientCredentials
from vpshealth.domain.hosts import Host

MAX_CHECKS = 5000
NO_DOCKER_SOCKET = "/var/run/vpshealth-bench-no-docker.sock"


@dataclass(frozen=True)
class Target:
    address: str
    port: int
    user: str
    host_public_key: str  # OpenSSH public key line
    client_key_path: Path


@dataclass
class MethodResult:
    method: str
    checks: int
    client_cpu_ms: float
    children_cpu_ms: float
    wall_ms: float
    ratio_to_reused: float = 0.0


def _rusage() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _measure(name: str, checks: int, one_check: Callable[[], None]) -> MethodResult:
    if checks == 0:
        return MethodResult(name, 0, float("nan"), float("nan"), float("nan"))
    one_check()  # warm up
    wall0 = time.perf_counter()
    self0, kids0 = _rusage()
    for _ in range(checks):
        one_check()
    self1, kids1 = _rusage()
    wall = time.perf_counter() - wall0
    own, kids = (self1 - self0) / checks * 1000, (kids1 - kids0) / checks * 1000
    return MethodResult(name, checks, own + kids, kids, wall / checks * 1000)


def ssh_process_check(
    target: Target, known_hosts: Path, kex: str | None = None
) -> Callable[[], None]:
    argv = [
        "ssh",
        "-F", "/dev/null",
        "-i", str(target.client_key_path),
        "-p", str(target.port),
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "IdentitiesOnly=yes",
        "-o", "ControlMaster=no",
        "-o", "ControlPath=none",
        "-o", "LogLevel=ERROR",
        "-o", "ConnectTimeout=10",
        *(["-o", f"KexAlgorithms={kex}"] if kex else []),
        f"{target.user}@{target.address}",
        POLL_COMMAND,
    ]  # fmt: skip

    def check() -> None:
        out = subprocess.run(argv, capture_output=True, check=True, timeout=30, text=True)
        parse_snapshot(out.stdout)

    return check


def paramiko_check(target: Target) -> Callable[[], None]:
    pkey = paramiko.Ed25519Key.from_private_key_file(str(target.client_key_path))
    key_type, key_b64 = target.host_public_key.split()[:2]
    host_key = paramiko.Ed25519Key(data=paramiko.message.Message(_b64(key_b64)).asbytes())
    assert host_key.get_name() == key_type

    def check() -> None:
        client = paramiko.SSHClient()
        client.get_host_keys().add(f"[{target.address}]:{target.port}", key_type, host_key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                target.address,
                target.port,
                username=target.user,
                pkey=pkey,
                look_for_keys=False,
                allow_agent=False,
                timeout=10,
                banner_timeout=10,
                auth_timeout=10,
            )
            _, stdout, _ = client.exec_command(POLL_COMMAND, timeout=20)
            parse_snapshot(stdout.read().decode("utf-8", "replace"))
        finally:
            client.close()

    return check


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


class AsyncChecks:
    """(c), (d) and (e) share one event loop that lives for the whole measurement."""

    def __init__(self, target: Target) -> None:
        self._loop = asyncio.new_event_loop()
        host = Host(
            name="bench",
            address=target.address,
            port=target.port,
            user=target.user,
            host_key=target.host_public_key,
        )
        credentials = ClientCredentials(private_key=target.client_key_path.read_text())
        self._conn = SshConnection(host, credentials, SshOptions())
        self._shell = PollShell(self._conn)

    async def _sample(self) -> None:
        parse_snapshot(await self._shell.sample(first=False))

    def shell(self) -> None:
        self._loop.run_until_complete(self._sample())

    async def _run(self, fresh: bool) -> None:
        if fresh:
            await self._conn.close()
        parse_snapshot(await self._conn.run(POLL_COMMAND))
        if fresh:
            await self._conn.close()

    async def _docker_probe(self) -> None:
        opener = ssh_opener(self._conn, NO_DOCKER_SOCKET)
        try:
            await opener()
        except DockerAccessError as exc:
            if exc.access is not DockerAccess.ABSENT:
                raise
        else:
            raise RuntimeError(f"{NO_DOCKER_SOCKET} unexpectedly exists")

    def docker_probe(self) -> None:
        """What the engine adds to every poll of a host without Docker: a direct-streamlocal
        open that fails, then the diagnosis command."""
        self._loop.run_until_complete(self._docker_probe())

    def fresh(self) -> None:
        self._loop.run_until_complete(self._run(fresh=True))

    def reused(self) -> None:
        self._loop.run_until_complete(self._run(fresh=False))

    def close(self) -> None:
        self._shell.close()
        self._loop.run_until_complete(self._conn.close())
        self._loop.close()


@contextlib.contextmanager
def sshd_target() -> Iterator[Target]:
    server = SshServer.create()
    try:
        yield Target(
            server.host,
            server.port,
            server.user,
            server.host_public_key,
            server.client_key_path,
        )
    finally:
        server.close()


@contextlib.contextmanager
def fleet_target(write_gap_ms: float | None = None) -> Iterator[Target]:
    with tempfile.TemporaryDirectory(prefix="vh-compare-") as tmp:
        workdir = Path(tmp)
        key = asyncssh.generate_private_key("ssh-ed25519")
        key_path = workdir / "client_ed25519"
        key_path.write_bytes(key.export_private_key("openssh"))
        key_path.chmod(0o600)
        key_path.with_name("client_ed25519.pub").write_bytes(key.export_public_key())
        extra = [] if write_gap_ms is None else ["--write-gap-ms", str(write_gap_ms)]
        with FleetProcess(
            1, key_path.with_name("client_ed25519.pub"), workdir, duration=1800, extra_args=extra
        ) as fleet:
            host = fleet.hosts[0]
            yield Target("127.0.0.1", host["port"], "bench", host["host_key"], key_path)


def run(
    target: Target, checks: int, reused_checks: int, *, reused_only: bool = False
) -> list[MethodResult]:
    if reused_only:
        checks = 0
    with tempfile.TemporaryDirectory(prefix="vh-compare-kh-") as tmp:
        known_hosts = Path(tmp) / "known_hosts"
        known_hosts.write_text(f"[{target.address}]:{target.port} {target.host_public_key}\n")
        results = [
            _measure("(a) ssh process per check", checks, ssh_process_check(target, known_hosts)),
            _measure(
                "(a') same, curve25519 key exchange",
                checks,
                ssh_process_check(target, known_hosts, kex="curve25519-sha256"),
            ),
        ]
    results.append(_measure("(b) paramiko, new connection", checks, paramiko_check(target)))
    checker = AsyncChecks(target)
    try:
        results.append(_measure("(c) asyncssh, new connection", checks, checker.fresh))
        if reused_only:
            results.clear()
        results.append(_measure("(d) asyncssh, reused, command", reused_checks, checker.reused))
        results.append(_measure("(e) poll shell, reused (ours)", reused_checks, checker.shell))
        extra = _measure("+ Docker probe, host w/o Docker", reused_checks, checker.docker_probe)
    finally:
        checker.close()
    ours = results[-1].client_cpu_ms
    results.append(extra)
    for result in results:
        result.ratio_to_reused = result.client_cpu_ms / ours if ours else float("nan")
    return results


def format_results(results: list[MethodResult], server: str) -> str:
    lines = [
        f"server: {server}; client CPU includes parsing; (a) includes the ssh child's CPU",
        f"{'method':36s}{'checks':>7s}{'CPU ms/check':>14s}{'of it child':>12s}"
        f"{'wall ms':>9s}{'x (e)':>8s}",
    ]
    for r in results:
        lines.append(
            f"{r.method:36s}{r.checks:>7d}{r.client_cpu_ms:>14.2f}{r.children_cpu_ms:>12.2f}"
            f"{r.wall_ms:>9.2f}{r.ratio_to_reused:>8.1f}"
        )
    by_name = {r.method.split()[0]: r for r in results}
    if "(a)" not in by_name:
        return "\n".join(lines)
    a, b = by_name["(a)"].ratio_to_reused, by_name["(b)"].ratio_to_reused
    lines += [
        "",
        "the last row is not a method: it is what the engine adds to (e) on every 20th poll "
        "of a host without Docker",
        f"target >= 50x cheaper than (a): {'MET' if a >= 50 else 'MISSED'} ({a:.1f}x)",
        f"target >=  5x cheaper than (b): {'MET' if b >= 5 else 'MISSED'} ({b:.1f}x)",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checks", type=int, default=100, help="per method (a)-(c)")
    parser.add_argument("--reused-checks", type=int, default=500, help="for (d)")
    parser.add_argument("--server", choices=("sshd", "fleet"), default="sshd")
    parser.add_argument(
        "--fleet-write-gap-ms", type=float, default=None, help="see bench/fleet.py --write-gap-ms"
    )
    parser.add_argument("--reused-only", action="store_true", help="only (d), (e) and the probe")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not (1 <= args.checks <= MAX_CHECKS and 1 <= args.reused_checks <= MAX_CHECKS):
        parser.error(f"check counts must be 1-{MAX_CHECKS}")
    gap = args.fleet_write_gap_ms
    target_cm = sshd_target() if args.server == "sshd" else fleet_target(gap)
    with target_cm as target:
        results = run(target, args.checks, args.reused_checks, reused_only=args.reused_only)
    print(format_results(results, args.server))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))


if __name__ == "__main__":
    main()

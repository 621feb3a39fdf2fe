"""A simulated fleet of Linux hosts for benchmarks: ONE asyncssh server process listening on N
loopback ports, each port a distinct host with its own ed25519 host key and its own synthetic
/proc, answering the exact commands of ``vpshealth.collectors.remote_commands``.

    uv run python bench/fleet.py --hosts 1000 --manifest /tmp/fleet.json \\
        --authorized-key ~/.ssh/id_ed25519.pub [--base-port 30000] [--duration 600] \\
        [--slow-share 0.05] [--flap-share 0.02] [--unreachable-share 0.01] \\
        [--docker-share 0.2] [--realistic-sleep] [--seed 1]

The manifest (written once every listener is up) lists each host's name, port and host public
key line, and which faults it simulates. Output is synthetic but shaped like the recorded
fixtures in ``tests/fixtures/procfs``: CPU counters that advance with time along a per-host
load profile, memory, 2-4 real filesystems (plus tmpfs noise) whose usage grows slowly, 1-3
network interfaces with growing counters, uptime, load average. ``FIRST_POLL_COMMAND`` answers
at once with a ``stat0`` sample taken "0.5 s earlier" unless ``--realistic-sleep``.

Hosts without Docker answer the Docker socket diagnosis command with ``missing`` (what a real
host without Docker prints), so the engine treats them as Docker-free. Hosts with
``--docker-share`` accept direct-streamlocal channels to /var/run/docker.sock and answer a
small fake Docker Engine API (list, inspect, one-shot stats, an idle events stream) built
from ``tests/fixtures/docker``. Any other command exits with status 127.

To cost the client what a real host costs it, answers are sent the way OpenSSH's sshd sends
them: one SSH data packet per shell write, about a millisecond apart (``--write-gap-ms``; 0
sends each answer in one write), and without the empty SSH_MSG_IGNORE that asyncssh puts
before every packet (sshd sends none). Measured with ``bench/compare_methods.py``: one reused
check costs the client about the same CPU against this simulator as against sshd
(4.2 and 4.6 ms here).

Faults: ``--slow-share`` hosts answer every poll command after 1-3 s; ``--flap-share`` hosts go
"down" for 15-40 s every 2-5 minutes (open connections are dropped and logins refused);
``--unreachable-share`` ports are left closed (connection refused).

Stops on Ctrl-C / SIGTERM, or after ``--duration`` seconds. Only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
import asyncssh.packet
from asyncssh.constants import MSG_IGNORE

from vpshealth.collectors.remote_commands import (
    DOCKER_SOCKET_DIAGNOSIS,
    DONE_MARKER,
    FIRST_POLL_COMMAND,
    FIRST_SAMPLE_REQUEST,
    POLL_COMMAND,
    POLL_SHELL_COMMAND,
    SAMPLE_REQUEST,
    SYSTEM_INFO_COMMAND,
)

ADDRESS = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[1]
PROCFS_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "procfs"
DOCKER_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "docker"
DOCKER_SOCKET = "/var/run/docker.sock"
DEFAULT_KEY_CACHE = Path(tempfile.gettempdir()) / "vpshealth-fleet-keys"
HZ = 100  # USER_HZ: /proc/stat counts in 1/100 s
KIB = 1024
GIB_KIB = 1024 * 1024
MAX_HOSTS = 10_000
HOSTS_PER_PROCESS = 5000
"""``FleetProcess`` splits a larger fleet over processes: each needs two open files a host
(its listener and the client's connection), and a container's hard limit may be 20,000."""

# --- synthetic host model ----------------------------------------------------------------


def _integral(base: float, amp: float, omega: float, phase: float, t0: float, t1: float) -> float:
    """Integral of base + amp * sin(omega * t + phase) from t0 to t1 (monotonic when
    base >= amp)."""
    return base * (t1 - t0) - amp / omega * (
        math.cos(omega * t1 + phase) - math.cos(omega * t0 + phase)
    )


@dataclass
class Filesystem:
    device: str
    fstype: str
    mount: str
    total_kib: int
    used0_kib: int
    growth_kib_s: float
    reserved_share: float  # ext4 keeps 5 % for root: df's Available excludes it

    def usage(self, elapsed: float) -> tuple[int, int, int]:
        reserved = int(self.total_kib * self.reserved_share)
        used = min(int(self.used0_kib + self.growth_kib_s * elapsed), self.total_kib - reserved)
        return self.total_kib, used, self.total_kib - reserved - used


@dataclass
class Interface:
    name: str
    rx_rate: float  # bytes/s, average
    tx_rate: float
    omega: float
    phase: float

    def counters(self, boot: float, now: float) -> tuple[int, int, int, int]:
        rx = int(_integral(self.rx_rate, self.rx_rate * 0.6, self.omega, self.phase, boot, now))
        tx = int(_integral(self.tx_rate, self.tx_rate * 0.6, self.omega, self.phase + 1, boot, now))
        return rx, rx // 900 + 1, tx, tx // 700 + 1


@dataclass
class HostModel:
    """Everything that makes one simulated host's answers, as pure functions of time."""

    name: str
    ncpu: int
    cpu_weights: list[float]
    cpu_base: float  # busy share of all CPUs, long-run average
    cpu_amp: float
    cpu_omega: float
    cpu_phase: float
    iowait_share: float
    boot_time: float
    mem_total_kib: int
    mem_base: float
    mem_amp: float
    mem_omega: float
    swap_total_kib: int
    filesystems: list[Filesystem]
    interfaces: list[Interface]
    kernel: str
    os_release: str
    procs_total: int
    started: float = field(default_factory=time.time)

    # -- /proc/stat
    def _cpu_fields(self, now: float) -> list[float]:
        elapsed = now - self.boot_time
        all_ticks = HZ * self.ncpu
        busy = all_ticks * _integral(
            self.cpu_base, self.cpu_amp, self.cpu_omega, self.cpu_phase, self.boot_time, now
        )
        idle_time = all_ticks * elapsed - busy
        iowait = idle_time * self.iowait_share
        # user nice system idle iowait irq softirq steal guest guest_nice
        return [
            busy * 0.66,
            busy * 0.004,
            busy * 0.24,
            idle_time - iowait,
            iowait,
            0.0,
            busy * 0.036,
            busy * 0.06,
            0.0,
            0.0,
        ]

    def cpu_line(self, now: float) -> str:
        return "cpu  " + " ".join(str(int(v)) for v in self._cpu_fields(now))

    def proc_stat(self, now: float) -> str:
        fields = self._cpu_fields(now)
        lines = [self.cpu_line(now)]
        for i, weight in enumerate(self.cpu_weights):
            lines.append(f"cpu{i} " + " ".join(str(int(v * weight)) for v in fields))
        elapsed = now - self.boot_time
        lines += [
            "intr " + str(int(elapsed * 310 * self.ncpu)) + " 0 9 0 0 0 0 0 0 0 1 0 0 156 0 0 0",
            f"ctxt {int(elapsed * 520 * self.ncpu)}",
            f"btime {int(self.boot_time)}",
            f"processes {int(elapsed * 0.4) + 1000}",
            f"procs_running {max(1, round(self.ncpu * self._load(now)))}",
            "procs_blocked 0",
            "softirq " + " ".join(str(int(elapsed * k)) for k in (90, 0, 31, 1, 7, 12, 0, 2, 25)),
        ]
        return "\n".join(lines)

    def _load(self, now: float) -> float:
        return self.cpu_base + self.cpu_amp * math.sin(self.cpu_omega * now + self.cpu_phase)

    # -- /proc/meminfo
    def meminfo(self, now: float) -> str:
        total = self.mem_total_kib
        used_share = self.mem_base + self.mem_amp * math.sin(self.mem_omega * now)
        available = int(total * (1 - used_share))
        free = int(available * 0.22)
        cached = int(available * 0.62)
        buffers = int(available * 0.04)
        sreclaimable = int(available * 0.06)
        anon = max(total - available - int(total * 0.03), 0)
        swap_free = int(self.swap_total_kib * 0.97)
        values = [
            ("MemTotal", total),
            ("MemFree", free),
            ("MemAvailable", available),
            ("Buffers", buffers),
            ("Cached", cached),
            ("SwapCached", 0),
            ("Active", int(anon * 0.3 + cached * 0.6)),
            ("Inactive", int(anon * 0.7 + cached * 0.4)),
            ("Active(anon)", int(anon * 0.3)),
            ("Inactive(anon)", int(anon * 0.7)),
            ("Active(file)", int(cached * 0.6)),
            ("Inactive(file)", int(cached * 0.4)),
            ("Unevictable", 9992),
            ("Mlocked", 8380),
            ("SwapTotal", self.swap_total_kib),
            ("SwapFree", swap_free),
            ("Zswap", 0),
            ("Zswapped", 0),
            ("Dirty", int(now) % 500),
            ("Writeback", 0),
            ("AnonPages", anon),
            ("Mapped", int(total * 0.02)),
            ("Shmem", int(total * 0.004)),
            ("KReclaimable", sreclaimable),
            ("Slab", int(sreclaimable * 1.3)),
            ("SReclaimable", sreclaimable),
            ("SUnreclaim", int(sreclaimable * 0.3)),
            ("KernelStack", 1376 * self.ncpu),
            ("PageTables", int(total * 0.003)),
            ("SecPageTables", 0),
            ("NFS_Unstable", 0),
            ("Bounce", 0),
            ("WritebackTmp", 0),
            ("CommitLimit", total // 2 + self.swap_total_kib),
            ("Committed_AS", int(anon * 1.8)),
            ("VmallocTotal", 34359738367),
            ("VmallocUsed", 23456),
            ("VmallocChunk", 0),
            ("Percpu", 688 * self.ncpu),
            ("HardwareCorrupted", 0),
            ("AnonHugePages", 0),
            ("ShmemHugePages", 0),
            ("ShmemPmdMapped", 0),
            ("FileHugePages", 0),
            ("FilePmdMapped", 0),
        ]
        lines = [f"{key + ':':<16}{value:>8} kB" for key, value in values]
        lines += [
            "HugePages_Total:       0",
            "HugePages_Free:        0",
            "HugePages_Rsvd:        0",
            "HugePages_Surp:        0",
            "Hugepagesize:       2048 kB",
            "Hugetlb:               0 kB",
            f"DirectMap4k:     {165740:>8} kB",
            f"DirectMap2M:     {total:>8} kB",
        ]
        return "\n".join(lines)

    def loadavg(self, now: float) -> str:
        one, five, fifteen = (
            max(self.ncpu * self._load(now - lag), 0.0) for lag in (30.0, 150.0, 450.0)
        )
        running = max(1, round(one))
        last_pid = int((now - self.boot_time) * 0.4) + 1000
        return f"{one:.2f} {five:.2f} {fifteen:.2f} {running}/{self.procs_total} {last_pid}"

    def uptime(self, now: float) -> str:
        idle = self._cpu_fields(now)[3] / HZ
        return f"{now - self.boot_time:.2f} {idle:.2f}"

    def net_dev(self, now: float) -> str:
        lines = [
            "Inter-|   Receive                                                |  Transmit",
            " face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
            "packets errs drop fifo colls carrier compressed",
        ]
        lo = int((now - self.boot_time) * 800)
        rows = [("lo", lo, lo // 130, lo, lo // 130)]
        rows += [(i.name, *i.counters(self.boot_time, now)) for i in self.interfaces]
        for name, rx, rx_packets, tx, tx_packets in rows:
            lines.append(
                f"{name:>6}: {rx:>8} {rx_packets:>7}    0    0    0     0          0         0 "
                f"{tx:>8} {tx_packets:>7}    0    0    0     0       0          0"
            )
        return "\n".join(lines)

    def df(self, now: float) -> str:
        elapsed = now - self.started
        rows: list[tuple[str, str, int, int, int, str]] = [
            (
                "tmpfs",
                "tmpfs",
                self.mem_total_kib // 10,
                3204,
                self.mem_total_kib // 10 - 3204,
                "/run",
            )
        ]
        for fs in self.filesystems:
            total, used, available = fs.usage(elapsed)
            rows.append((fs.device, fs.fstype, total, used, available, fs.mount))
        half = self.mem_total_kib // 2
        rows += [
            ("tmpfs", "tmpfs", half, 0, half, "/dev/shm"),
            ("tmpfs", "tmpfs", 5120, 0, 5120, "/run/lock"),
            (
                "tmpfs",
                "tmpfs",
                self.mem_total_kib // 10,
                4,
                self.mem_total_kib // 10 - 4,
                "/run/user/0",
            ),
        ]
        lines = ["Filesystem     Type     1024-blocks     Used Available Capacity Mounted on"]
        for device, fstype, total, used, available, mount in rows:
            capacity = math.ceil(100 * used / (used + available)) if used + available else 0
            lines.append(
                f"{device:<14} {fstype:<8} {total:>11} {used:>8} {available:>9} "
                f"{capacity:>7}% {mount}"
            )
        return "\n".join(lines)

    # -- whole answers
    def poll_output(self, now: float, *, first: bool, stat0_at: float | None = None) -> str:
        parts = []
        if first:
            parts += [
                "@@vpshealth:stat0",
                self.cpu_line(now - 0.5 if stat0_at is None else stat0_at),
            ]
        parts += [
            "@@vpshealth:stat",
            self.proc_stat(now),
            "@@vpshealth:meminfo",
            self.meminfo(now),
            "@@vpshealth:loadavg",
            self.loadavg(now),
            "@@vpshealth:uptime",
            self.uptime(now),
            "@@vpshealth:netdev",
            self.net_dev(now),
            "@@vpshealth:df",
            self.df(now),
            "@@vpshealth:end",
            "",
        ]
        return "\n".join(parts)

    def system_info_output(self) -> str:
        return (
            f"@@vpshealth:hostname\n{self.name}\n@@vpshealth:kernel\n{self.kernel}\n"
            f"@@vpshealth:os-release\n{self.os_release}\n@@vpshealth:end\n"
        )


def _fixture_os_releases() -> list[tuple[str, str]]:
    """(kernel, os-release body) pairs from the recorded/reconstructed fixtures."""
    pairs = []
    for name in ("sysinfo_debian12.txt", "sysinfo_ubuntu2404.txt", "sysinfo_alpine319.txt"):
        text = (PROCFS_FIXTURES / name).read_text()
        kernel = text.split("@@vpshealth:kernel\n", 1)[1].split("\n", 1)[0]
        body = text.split("@@vpshealth:os-release\n", 1)[1].split("@@vpshealth:end", 1)[0]
        pairs.append((kernel, body.rstrip("\n")))
    return pairs


def make_model(name: str, rng: random.Random, os_releases: list[tuple[str, str]]) -> HostModel:
    ncpu = rng.choice((1, 2, 2, 2, 4, 4, 8))
    raw = [rng.uniform(0.8, 1.2) for _ in range(ncpu)]
    weights = [w / sum(raw) for w in raw]
    profile = rng.random()
    if profile < 0.5:  # idle web/VPN boxes
        base = rng.uniform(0.01, 0.08)
    elif profile < 0.9:  # typical app servers
        base = rng.uniform(0.1, 0.35)
    else:  # busy: peaks up to 80 % (never critical, so a healthy fleet stays ok/warning)
        base = rng.uniform(0.4, 0.5)
    amp = min(base * rng.uniform(0.2, 0.9), 0.8 - base)
    mem_gib = rng.choice((1, 2, 4, 4, 8, 8, 16, 32))
    mem_base = rng.uniform(0.2, 0.75)
    mem_amp = min(rng.uniform(0.0, 0.08), 0.86 - mem_base)
    root_gib = rng.choice((20, 40, 80, 160, 240))
    filesystems = [
        Filesystem(
            "/dev/sda1", "ext4", "/", root_gib * GIB_KIB,
            int(root_gib * GIB_KIB * rng.uniform(0.1, 0.7)), rng.uniform(0.5, 60.0), 0.05,
        )
    ]  # fmt: skip
    extra = rng.sample(("efi", "volume", "data"), k=rng.randint(1, 3))
    for kind in extra:
        if kind == "efi":
            filesystems.append(
                Filesystem("/dev/sda15", "vfat", "/boot/efi", 106858, 6186, 0.0, 0.0)
            )
        elif kind == "volume":
            size = rng.choice((10, 50, 100, 500)) * GIB_KIB
            volume = rng.randint(100_000_000, 109_999_999)
            filesystems.append(
                Filesystem(
                    "/dev/sdb", "ext4", f"/mnt/HC_Volume_{volume}", size,
                    int(size * rng.uniform(0.05, 0.8)), rng.uniform(0.0, 30.0), 0.05,
                )
            )  # fmt: skip
        else:
            size = rng.choice((50, 200, 1000)) * GIB_KIB
            filesystems.append(
                Filesystem(
                    "/dev/vdb", "xfs", "/data", size,
                    int(size * rng.uniform(0.05, 0.8)), rng.uniform(0.0, 100.0), 0.0,
                )
            )  # fmt: skip
    interfaces = [
        Interface(
            name,
            rx_rate=rng.uniform(1e3, 5e6),
            tx_rate=rng.uniform(1e3, 2e6),
            omega=2 * math.pi / rng.uniform(300, 3600),
            phase=rng.uniform(0, 2 * math.pi),
        )
        for name in ("eth0", "enp7s0", "ens10")[: rng.randint(1, 3)]
    ]
    kernel, os_release = rng.choice(os_releases)
    return HostModel(
        name=name,
        ncpu=ncpu,
        cpu_weights=weights,
        cpu_base=base,
        cpu_amp=amp,
        cpu_omega=2 * math.pi / rng.uniform(120, 1800),
        cpu_phase=rng.uniform(0, 2 * math.pi),
        iowait_share=rng.uniform(0.0, 0.02),
        boot_time=time.time() - rng.uniform(3600, 200 * 86400),
        mem_total_kib=mem_gib * GIB_KIB - rng.randint(100_000, 300_000),
        mem_base=mem_base,
        mem_amp=mem_amp,
        mem_omega=2 * math.pi / rng.uniform(600, 7200),
        swap_total_kib=rng.choice((0, 0, 0, 1, 2)) * GIB_KIB,
        filesystems=filesystems,
        interfaces=interfaces,
        kernel=kernel,
        os_release=os_release,
        procs_total=rng.randint(85, 700),
    )


# --- fake Docker Engine API --------------------------------------------------------------

_DOCKER_TEMPLATES = ("coolify-proxy", "coolify-sentinel", "web-abc", "blog-db-1", "vh-healthy")


@dataclass
class FakeDocker:
    """A few running containers: their listing lines, inspect JSON and one-shot stats, with
    per-host container ids and CPU/memory counters that advance with time."""

    listing: bytes
    inspect: dict[str, bytes]
    stats_template: dict[str, dict[str, Any]]
    cpu_rate: dict[str, float]  # ns of CPU per s
    memory: dict[str, int]
    ncpu: int
    version: bytes

    @classmethod
    def build(cls, host: str, rng: random.Random, ncpu: int) -> FakeDocker:
        listed = json.loads((DOCKER_FIXTURES / "containers_list.json").read_text())
        by_name = {entry["Names"][0].lstrip("/"): entry for entry in listed}
        stats_text = (DOCKER_FIXTURES / "stats_web-abc.json").read_text()
        names = [n for n in _DOCKER_TEMPLATES if n in by_name][: rng.randint(3, 5)]
        entries, inspect, stats, cpu_rate, memory = [], {}, {}, {}, {}
        for name in names:
            entry = by_name[name]
            old_id = entry["Id"]
            new_id = hashlib.sha256(f"{host}/{name}".encode()).hexdigest()
            text = json.dumps(entry).replace(old_id, new_id)
            entry = json.loads(text)
            entry["Status"] = "Up 3 hours"
            entries.append(entry)
            inspect_text = (DOCKER_FIXTURES / f"inspect_{name}.json").read_text()
            inspect[new_id] = inspect_text.replace(old_id, new_id).encode()
            sample = json.loads(stats_text)
            sample["id"], sample["name"] = new_id, f"/{name}"
            stats[new_id] = sample
            cpu_rate[new_id] = rng.uniform(1e6, 2e8)
            memory[new_id] = rng.randint(20, 600) * 1024 * 1024
        return cls(
            listing=json.dumps(entries).encode(),
            inspect=inspect,
            stats_template=stats,
            cpu_rate=cpu_rate,
            memory=memory,
            ncpu=ncpu,
            version=(DOCKER_FIXTURES / "version.json").read_bytes(),
        )

    def stats(self, container_id: str, now: float) -> bytes:
        sample = json.loads(json.dumps(self.stats_template[container_id]))
        cpu = sample["cpu_stats"]
        total = int(self.cpu_rate[container_id] * (now - 1_700_000_000))
        cpu["cpu_usage"]["total_usage"] = total
        cpu["cpu_usage"]["percpu_usage"] = [total // self.ncpu] * self.ncpu
        cpu["system_cpu_usage"] = int(now * 1e9 * self.ncpu)
        cpu["online_cpus"] = self.ncpu
        sample["memory_stats"]["usage"] = self.memory[container_id] + int(now) % 4096 * 1024
        sample["read"] = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(now))
        return json.dumps(sample).encode()

    def answer(self, path: str) -> tuple[int, bytes]:
        route = path.split("?", 1)[0]
        if route.startswith("/v1."):
            route = "/" + route.split("/", 2)[2]
        parts = route.strip("/").split("/")
        if route == "/containers/json":
            return 200, self.listing
        if route in ("/version", "/_ping"):
            return 200, self.version if route == "/version" else b"OK"
        if len(parts) == 3 and parts[0] == "containers":
            container_id = self._resolve(parts[1])
            if container_id is not None and parts[2] == "json":
                return 200, self.inspect[container_id]
            if container_id is not None and parts[2] == "stats":
                return 200, self.stats(container_id, time.time())
        return 404, b'{"message":"No such container"}'

    def _resolve(self, ref: str) -> str | None:
        for container_id in self.inspect:
            if container_id.startswith(ref):
                return container_id
        return None


async def serve_docker_api(
    docker: FakeDocker, reader: asyncssh.SSHReader[bytes], writer: asyncssh.SSHWriter[bytes]
) -> None:
    """HTTP/1.1 keep-alive on one direct-streamlocal channel."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            path = parts[1] if len(parts) >= 2 else "/"
            if path.startswith("/events") or "/events?" in path:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )
                await reader.read()  # hold the stream open, idle, until the client closes
                return
            status, body = docker.answer(path)
            reason = "OK" if status == 200 else "Not Found"
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nApi-Version: 1.41\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
    except (asyncio.IncompleteReadError, asyncssh.Error, OSError, asyncio.LimitOverrunError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


# --- the SSH side --------------------------------------------------------------------------


@dataclass
class Counters:
    execs: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    refused_logins: int = 0
    dropped: int = 0
    docker_streams: int = 0

    def count(self, what: str) -> None:
        self.execs[what] = self.execs.get(what, 0) + 1


@dataclass
class SimHost:
    index: int
    name: str
    model: HostModel
    key: asyncssh.SSHKey
    slow: bool
    flap: tuple[float, float, float] | None  # (period, down seconds, offset)
    unreachable: bool
    docker: FakeDocker | None
    port: int = 0
    down: bool = False
    conns: set[asyncssh.SSHServerConnection] = field(default_factory=set)
    acceptor: asyncssh.SSHAcceptor | None = None

    def is_down(self, now: float, t0: float) -> bool:
        if self.flap is None:
            return False
        period, down_for, offset = self.flap
        return (now - t0 + offset) % period < down_for


class _Server(asyncssh.SSHServer):
    def __init__(self, host: SimHost, authorized: bytes, counters: Counters) -> None:
        self._host = host
        self._authorized = authorized
        self._counters = counters
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._host.conns.add(conn)
        self._counters.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._host.conns.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        if self._host.down:
            self._counters.refused_logins += 1
            return False
        return bool(key.public_data == self._authorized)

    def unix_connection_requested(self, dest_path: str) -> Any:
        docker = self._host.docker
        if docker is None or dest_path != DOCKER_SOCKET:
            return False
        self._counters.docker_streams += 1
        return functools.partial(serve_docker_api, docker)


def _shell_writes(output: str, coalesce: bool) -> list[bytes]:
    """The output cut where the real shell writes: each ``echo`` of a marker and each ``cat``
    or ``df`` is its own write(2), about a millisecond apart (a process start each), which
    sshd forwards as its own SSH data packet. The client pays per packet and per wake-up, so
    one big write would make every check look cheaper than on a real host (OpenSSH's sshd
    sends about 13 data packets per poll)."""
    if coalesce:
        return [output.encode()]
    writes = []
    for part in output.split("@@vpshealth:"):
        if not part:
            continue
        marker, _, body = part.partition("\n")
        writes.append(f"@@vpshealth:{marker}\n".encode())
        if body:
            writes.append(body.encode())
    return writes


async def _handle_exec(
    host: SimHost,
    counters: Counters,
    realistic_sleep: bool,
    write_gap: float,
    process: asyncssh.SSHServerProcess[bytes],
) -> None:
    command = process.command or ""
    model = host.model
    try:
        if command in (POLL_COMMAND, FIRST_POLL_COMMAND, SYSTEM_INFO_COMMAND):
            counters.count(
                {POLL_COMMAND: "poll", FIRST_POLL_COMMAND: "first_poll"}.get(command, "system_info")
            )
            if host.slow:
                await asyncio.sleep(random.uniform(1.0, 3.0))
            if command == SYSTEM_INFO_COMMAND:
                output = model.system_info_output()
            elif command == FIRST_POLL_COMMAND and realistic_sleep:
                stat0_at = time.time()
                await asyncio.sleep(0.5)
                output = model.poll_output(time.time(), first=True, stat0_at=stat0_at)
            else:
                output = model.poll_output(time.time(), first=command == FIRST_POLL_COMMAND)
            for i, chunk in enumerate(_shell_writes(output, write_gap == 0)):
                if i and write_gap:
                    await asyncio.sleep(write_gap)
                process.stdout.write(chunk)
            process.exit(0)
        elif command == POLL_SHELL_COMMAND:
            counters.count("poll_shell")
            await _serve_poll_shell(host, counters, realistic_sleep, process)
            process.exit(0)
        elif command == DOCKER_SOCKET_DIAGNOSIS:
            counters.count("docker_diagnosis")
            await process.stdin.readline()
            process.stdout.write(b"accessible\n" if host.docker is not None else b"missing\n")
            process.exit(0)
        else:
            counters.count("other")
            process.stderr.write(b"sh: 1: not found\n")
            process.exit(127)
    except (asyncssh.Error, OSError, BrokenPipeError, asyncio.IncompleteReadError):
        process.close()


async def _serve_poll_shell(
    host: SimHost,
    counters: Counters,
    realistic_sleep: bool,
    process: asyncssh.SSHServerProcess[bytes],
) -> None:
    """What ``POLL_SHELL_COMMAND`` does on a real host: a line ``p TOKEN`` or ``f TOKEN`` in,
    one poll's output and the done line out, in one write (the shell gathers the output and
    prints it with one ``printf``); anything else ends it."""
    model = host.model
    while True:
        line = (await process.stdin.readline()).decode(errors="replace")
        request, _, token = line.rstrip("\n").partition(" ")
        if request not in (SAMPLE_REQUEST, FIRST_SAMPLE_REQUEST):
            return
        first = request == FIRST_SAMPLE_REQUEST
        counters.count("first_poll" if first else "poll")
        if host.slow:
            await asyncio.sleep(random.uniform(1.0, 3.0))
        stat0_at = None
        if first and realistic_sleep:
            stat0_at = time.time()
            await asyncio.sleep(0.5)
        output = model.poll_output(time.time(), first=first, stat0_at=stat0_at)
        process.stdout.write(f"{output.rstrip()}\n{DONE_MARKER}{token}\n".encode())


def _send_no_ignore_packets() -> None:
    """asyncssh puts an empty SSH_MSG_IGNORE before every packet it sends once the link is
    encrypted; OpenSSH's sshd does not (measured: 19 packets per poll from sshd, 34 from an
    unpatched asyncssh server, half of them IGNORE). The client pays for every packet it
    receives, so the simulated hosts drop them and send what a real sshd sends."""
    original = asyncssh.SSHServerConnection.send_packet
    empty = asyncssh.packet.String(b"")

    def send_packet(
        self: asyncssh.SSHServerConnection, pkttype: int, *args: bytes, handler: Any = None
    ) -> None:
        if pkttype == MSG_IGNORE and args == (empty,):
            return
        original(self, pkttype, *args, handler=handler)

    asyncssh.SSHServerConnection.send_packet = send_packet  # type: ignore[method-assign]


# --- keys, fleet set-up, main ------------------------------------------------------------


def load_host_keys(count: int, cache: Path, first: int = 0) -> list[asyncssh.SSHKey]:
    """ed25519 host keys of hosts ``first`` to ``first + count - 1``, generated once and kept
    in ``cache`` for later runs."""
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = []
    for i in range(first, first + count):
        path = cache / f"host-{i:05d}"
        try:
            key = asyncssh.import_private_key(path.read_bytes())
        except (OSError, asyncssh.KeyImportError):
            key = asyncssh.generate_private_key("ssh-ed25519", comment=f"vpshealth-sim-{i}")
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(key.export_private_key("openssh"))
            tmp.chmod(0o600)
            tmp.replace(path)
        keys.append(key)
    return keys


def _closed_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ADDRESS, 0))
        return int(sock.getsockname()[1])


def build_hosts(args: argparse.Namespace) -> list[SimHost]:
    os_releases = _fixture_os_releases()
    keys = load_host_keys(args.hosts, Path(args.key_cache), args.first_index)
    hosts = []
    for i in range(args.first_index, args.first_index + args.hosts):
        rng = random.Random(f"{args.seed}-{i}")
        name = f"sim-{i:04d}"
        model = make_model(name, rng, os_releases)
        fault = random.Random(f"{args.seed}-fault-{i}")
        flap = None
        if fault.random() < args.flap_share:
            flap = (fault.uniform(120, 300), fault.uniform(15, 40), fault.uniform(0, 300))
        docker = None
        if fault.random() < args.docker_share:
            docker = FakeDocker.build(name, rng, model.ncpu)
        hosts.append(
            SimHost(
                index=i,
                name=name,
                model=model,
                key=keys[i - args.first_index],
                slow=fault.random() < args.slow_share,
                flap=flap,
                unreachable=fault.random() < args.unreachable_share,
                docker=docker,
            )
        )
    return hosts


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit (its children inherit it) toward ``needed``: the
    soft limit up to the hard one, the hard one too where allowed (root with
    CAP_SYS_RESOURCE, up to fs.nr_open). Returns the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        with contextlib.suppress(OSError, ValueError):
            ceiling = int(Path("/proc/sys/fs/nr_open").read_text())
            raised = min(needed, ceiling)
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, raised))
            return raised
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def ports_below_ephemeral(count: int) -> int:
    """A base port for ``count`` listeners just below the kernel's ephemeral range, so that
    thousands of listeners on port 0 do not take the source ports the client's thousands of
    connections need (0 when there is no room)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    base = low - count - 1
    return base if base >= 1024 else 0


async def run_fleet(args: argparse.Namespace) -> Counters:
    needed = 2 * args.hosts + 256  # a listener and a connection a host
    limit = raise_fd_limit(needed)
    if limit < needed:
        raise SystemExit(
            f"fleet: {args.hosts} hosts need {needed} open files, the limit is {limit}: "
            f"run at most {HOSTS_PER_PROCESS} hosts a process (FleetProcess does)"
        )
    _send_no_ignore_packets()
    # A flapping host's connections are aborted while answers are still being written;
    # asyncio then logs "socket.send() raised exception." for every write. Expected here.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    authorized = asyncssh.read_public_key(args.authorized_key).public_data
    counters = Counters()
    hosts = build_hosts(args)
    t_setup = time.perf_counter()
    try:
        for host in hosts:
            if host.unreachable:
                host.port = args.base_port + host.index if args.base_port else _closed_port()
                continue
            host.acceptor = await asyncssh.listen(
                ADDRESS,
                args.base_port + host.index if args.base_port else 0,
                server_factory=functools.partial(_Server, host, authorized, counters),
                server_host_keys=[host.key],
                process_factory=functools.partial(
                    _handle_exec, host, counters, args.realistic_sleep, args.write_gap_ms / 1000
                ),
                encoding=None,
                allow_scp=False,
                agent_forwarding=False,
                x11_forwarding=False,
                reuse_address=True,
                backlog=256,
                login_timeout=30,
            )
            host.port = host.acceptor.get_port()
        _write_manifest(args.manifest, hosts)
        print(
            f"fleet: {len(hosts)} hosts on {ADDRESS} ready in "
            f"{time.perf_counter() - t_setup:.1f} s (pid {os.getpid()}); manifest {args.manifest}",
            file=sys.stderr,
            flush=True,
        )
        flappers = [h for h in hosts if h.flap is not None and not h.unreachable]
        t0 = time.time()
        deadline = time.monotonic() + args.duration
        while not stop.is_set() and time.monotonic() < deadline:
            now = time.time()
            for host in flappers:
                down = host.is_down(now, t0)
                if down and not host.down:
                    for conn in list(host.conns):
                        counters.dropped += 1
                        conn.abort()
                host.down = down
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), timeout=min(0.5, max(deadline - time.monotonic(), 0.01))
                )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for host in hosts:
            if host.acceptor is not None:
                host.acceptor.close()
            for conn in list(host.conns):
                conn.abort()
        for host in hosts:
            if host.acceptor is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2):
                        await host.acceptor.wait_closed()
    return counters


def _write_manifest(path: str, hosts: list[SimHost]) -> None:
    data = {
        "address": ADDRESS,
        "pid": os.getpid(),
        "hosts": [
            {
                "name": h.name,
                "port": h.port,
                "host_key": h.key.export_public_key().decode().strip(),
                "unreachable": h.unreachable,
                "slow": h.slow,
                "flap": h.flap is not None,
                "docker": h.docker is not None,
                "ncpu": h.model.ncpu,
            }
            for h in hosts
        ],
    }
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(target)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--manifest", required=True, help="JSON file written when ready")
    parser.add_argument("--authorized-key", required=True, help="the client's public key file")
    parser.add_argument("--base-port", type=int, default=0, help="host i listens on BASE+i")
    parser.add_argument(
        "--first-index",
        type=int,
        default=0,
        help="the first host's number (names, keys, ports): one part of a larger fleet",
    )
    parser.add_argument("--duration", type=float, default=3600.0, help="stop after S seconds")
    parser.add_argument("--slow-share", type=float, default=0.0)
    parser.add_argument("--flap-share", type=float, default=0.0)
    parser.add_argument("--unreachable-share", type=float, default=0.0)
    parser.add_argument("--docker-share", type=float, default=0.0)
    parser.add_argument("--realistic-sleep", action="store_true")
    parser.add_argument(
        "--write-gap-ms",
        type=float,
        default=1.0,
        help="pause between the shell's writes, as its cat/df processes start (0: send each "
        "answer in one write, which is cheaper for the client than a real host)",
    )
    parser.add_argument("--seed", default="1")
    parser.add_argument("--key-cache", default=str(DEFAULT_KEY_CACHE))
    args = parser.parse_args(argv)
    if not 1 <= args.hosts <= MAX_HOSTS:
        parser.error(f"--hosts must be 1-{MAX_HOSTS}")
    if not 0 < args.duration <= 24 * 3600:
        parser.error("--duration must be within 24 h")
    if not 0 <= args.first_index <= MAX_HOSTS - args.hosts:
        parser.error(f"--first-index: hosts must be numbered within {MAX_HOSTS}")
    last = args.first_index + args.hosts
    if args.base_port and not 1024 <= args.base_port <= 65535 - last:
        parser.error("--base-port leaves no room for all hosts")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    counters = asyncio.run(run_fleet(args))
    print(
        f"fleet: stopped; connections {counters.connections}, execs {counters.execs}, "
        f"refused logins {counters.refused_logins}, dropped {counters.dropped}, "
        f"docker streams {counters.docker_streams}",
        file=sys.stderr,
        flush=True,
    )


# --- starting it from another process ------------------------------------------------------


class FleetProcess:
    """The simulator as child processes (one per ``HOSTS_PER_PROCESS`` hosts, numbered as one
    fleet); ``with FleetProcess(...) as fleet: fleet.hosts``."""

    def __init__(
        self,
        hosts: int,
        authorized_key: Path,
        workdir: Path,
        *,
        duration: float,
        extra_args: list[str] | None = None,
        start_timeout: float = 180.0,
    ) -> None:
        if not 1 <= hosts <= MAX_HOSTS:
            raise ValueError(f"a simulated fleet has 1-{MAX_HOSTS} hosts")
        self.log_path = workdir / "fleet.log"
        self._parts = [
            (first, min(HOSTS_PER_PROCESS, hosts - first), workdir / f"fleet-manifest-{n}.json")
            for n, first in enumerate(range(0, hosts, HOSTS_PER_PROCESS))
        ]
        self._argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--authorized-key", str(authorized_key),
            "--duration", str(duration),
            *(extra_args or []),
        ]  # fmt: skip
        self._start_timeout = start_timeout
        self.procs: list[subprocess.Popen[bytes]] = []
        self.manifest: dict[str, Any] = {}

    @property
    def hosts(self) -> list[dict[str, Any]]:
        return list(self.manifest["hosts"])

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        with open(self.log_path, "ab") as log:
            for first, count, manifest in self._parts:
                manifest.unlink(missing_ok=True)
                argv = [*self._argv, "--hosts", str(count), "--first-index", str(first)]
                self.procs.append(
                    subprocess.Popen(
                        [*argv, "--manifest", str(manifest)],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=log,
                    )
                )
        deadline = time.monotonic() + self._start_timeout
        for proc, (_, _, manifest) in zip(self.procs, self._parts, strict=True):
            while not manifest.exists():
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"the fleet simulator exited with {proc.returncode}: "
                        + self.log_path.read_text()[-2000:]
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError("the fleet simulator did not start in time")
                time.sleep(0.05)
        parts = [json.loads(manifest.read_text()) for _, _, manifest in self._parts]
        self.manifest = {
            "address": parts[0]["address"],
            "pids": [part["pid"] for part in parts],
            "hosts": [host for part in parts for host in part["hosts"]],
        }

    def stop(self, timeout: float = 10.0) -> None:
        procs, self.procs = self.procs, []
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)

    def __enter__(self) -> FleetProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    main()

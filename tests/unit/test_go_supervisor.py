"""The Go engine's supervision, against a FAKE engine: a small Python script that speaks the
protocol (engine-go/PROTOCOL.md) and then fails on purpose. It is a fault stand-in: the real
engine cannot be made to die after N results, write half a line, never say ready, or write
garbage on demand. What the real engine does is tested in tests/integration/test_go_engine.py.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.unit.fake_clock import FakeClock
from vpshealth.collectors.ssh_keys import ClientCredentials, generate_ed25519
from vpshealth.domain.alert_rules import RuleBook
from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.hosts import Host
from vpshealth.engine.credentials import GivenCredentials
from vpshealth.engine.docker_monitor import DockerMonitor
from vpshealth.engine.go_docker import GoDockerCollector, GoDockerError
from vpshealth.engine.go_engine import GoEngine
from vpshealth.engine.go_protocol import Message, StartOptions
from vpshealth.engine.go_supervisor import GoSupervisor
from vpshealth.engine.poller import DockerWatch, Poller
from vpshealth.engine.scheduler import Scheduler
from vpshealth.engine.service import HostHooks

KEY_TEXT = generate_ed25519("vpshealth-test")[0]  # made per run, never committed

FAKE_ENGINE = r"""
import json, os, signal, sys, time

mode, runs_file, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = int(open(runs_file).read()) + 1 if os.path.exists(runs_file) else 1
with open(runs_file, "w") as f:
    f.write(str(runs))

def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()

def send(obj):
    out(json.dumps(obj) + "\n")

SNAPSHOT = {"cpu_count": 2, "load": [0.1, 0.2, 0.3],
    "memory": {"total_bytes": 4000, "available_bytes": 3000},
    "swap": {"total_bytes": 0, "free_bytes": 0}, "uptime_seconds": 100.0,
    "disks": [{"mount": "/", "fstype": "ext4", "total_bytes": 100, "used_bytes": 10,
               "available_bytes": 90, "inodes_total": None, "inodes_used": None}],
    "network": [],
    "cpu_times": {"user": 10, "nice": 0, "system": 10, "idle": 80, "iowait": 0, "irq": 0,
                  "softirq": 0, "steal": 0},
    "cpu_times_previous": {"user": 5, "nice": 0, "system": 5, "idle": 40, "iowait": 0,
                           "irq": 0, "softirq": 0, "steal": 0}}

def result(host_id, seq):
    return {"type": "result", "host_id": host_id, "seq": seq, "due_at": 1.0 * seq,
            "started_at": 1765100000.0 + seq, "checked_at": 1765100000.0 + seq,
            "duration_ms": 7, "problem": None, "message": "", "snapshot": SNAPSHOT,
            "system_info": {"hostname": "web1", "kernel": "6.1", "os_name": "Debian"}
                           if seq == 1 else None,
            "docker": None}

if mode == "never-ready":
    time.sleep(60)
send({"type": "ready", "version": "fake", "pid": os.getpid()})
start = json.loads(sys.stdin.readline())
assert start["type"] == "start", start
hosts = json.loads(sys.stdin.readline())
ids = [h["id"] for h in hosts["hosts"]]
seq = 0
if mode == "malformed":
    out("not json at all\n")
    out("[1, 2, 3]\n")
    send({"type": "result", "host_id": "one"})
    send({"type": "from-the-future", "x": 1})
    out("\xff\n")
if mode == "crash-always" or (mode == "crash" and runs == 1):
    for _ in range(n):
        seq += 1
        send(result(ids[0], seq))
    out('{"type": "result", "host_id": %d, "seq": ' % ids[0])
    os.kill(os.getpid(), signal.SIGKILL)
for host_id in ids:
    seq += 1
    send(result(host_id, seq))
send({"type": "stats", "cpu_seconds": 0.5, "rss_bytes": 1000, "goroutines": 9,
      "max_tick_late_ms": 1.5, "connections": len(ids)})
send({"type": "log", "level": "info", "host_id": ids[0] if ids else None,
      "message": "run %d has %d hosts" % (runs, len(ids))})
sys.stderr.write("a line on standard error\n")
sys.stderr.flush()
for line in sys.stdin:
    message = json.loads(line)
    if message["type"] == "stop":
        send({"type": "stopped"})
        sys.exit(0)
    if message["type"] == "docker_get" and mode == "die-on-get":
        os.kill(os.getpid(), signal.SIGKILL)
    if message["type"] == "hosts":
        for h in message["hosts"]:
            seq += 1
            send(result(h["id"], seq))
"""

HOST = Host(name="web1", address="127.0.0.1", port=2222, user="vhtest", key_ref="k",
            host_key="ssh-ed25519 AAAA")  # fmt: skip


class Harness:
    def __init__(
        self,
        tmp_path: Path,
        mode: str,
        n: int = 0,
        ready_timeout: float = 5.0,
        stable_seconds: float = 300.0,
    ) -> None:
        script = tmp_path / "fake_engine.py"
        script.write_text(FAKE_ENGINE)
        self.results: list[tuple[int, CheckResult]] = []
        self.arrived = asyncio.Event()
        self.supervisors: list[GoSupervisor] = []
        args = ("-u", str(script), mode, str(tmp_path / "runs"), str(n))
        options = StartOptions(4, 30.0, 5.0, 5.0, 30.0)
        clock = FakeClock()
        rules = RuleBook({})

        def supervise(
            on_message: Callable[[Message], None], on_exit: Callable[[], None]
        ) -> GoSupervisor:
            supervisor = GoSupervisor(
                Path(sys.executable), options, on_message, on_exit, args=args,
                restart_delays=(0.01, 0.02, 0.05), ready_timeout=ready_timeout,
                stable_seconds=stable_seconds,
            )  # fmt: skip
            self.supervisors.append(supervisor)
            return supervisor

        def hooks(host_id: int, host: Host) -> HostHooks:
            return HostHooks(lambda: rules.rules(host_id), lambda incidents: None)

        def docker_watch(
            host_id: int, host: Host, hooks: HostHooks, collector: GoDockerCollector
        ) -> DockerWatch:
            monitor = DockerMonitor(
                host.name, collector, clock, follow_events=False, absent_recheck_polls=0
            )
            return DockerWatch(monitor, None)

        def no_poller(host_id: int, host: Host) -> Poller:
            raise AssertionError("no local host in these tests")

        def sink(host_id: int, result: CheckResult) -> None:
            self.results.append((host_id, result))
            self.arrived.set()

        local = Scheduler(no_poller, sink, clock, max_concurrency=1, poll_timeout=1.0)
        credentials = GivenCredentials(ClientCredentials(private_key=KEY_TEXT))
        self.timings: list[tuple[int, float, float, float, int]] = []

        def observe(host_id: int, due: float, started: float, checked: float, ms: int) -> None:
            self.timings.append((host_id, due, started, checked, ms))

        self.engine = GoEngine(
            supervise, local, hooks, sink, credentials=credentials, docker_watch=docker_watch,
            observer=observe,
        )  # fmt: skip

    async def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        async with asyncio.timeout(30):
            while not condition():
                self.arrived.clear()
                await asyncio.wait({asyncio.ensure_future(self.arrived.wait())}, timeout=0.05)
        assert condition(), what


@pytest.fixture
async def stopped_after() -> AsyncIterator[list[GoEngine]]:
    engines: list[GoEngine] = []
    yield engines
    for engine in engines:
        await engine.stop()


async def test_a_crash_keeps_every_result_read_and_restarts_with_the_hosts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, stopped_after: list[GoEngine]
) -> None:
    caplog.set_level(logging.DEBUG)
    h = Harness(tmp_path, "crash", n=3)
    stopped_after.append(h.engine)
    await h.engine.set_hosts({7: HOST})
    # Run 1 writes 3 results and half a line, then dies; run 2 gets the hosts again and
    # checks the host once more.
    await h.wait_for(lambda: len(h.results) >= 4, "the results of both runs")
    assert [host_id for host_id, _ in h.results[:4]] == [7, 7, 7, 7]
    assert all(r.state is HostState.OK and r.metrics is not None for _, r in h.results)
    assert h.results[0][1].metrics is not None
    assert h.results[0][1].metrics.cpu_percent == 20.0  # 10 of 50 jiffies busy
    assert h.results[0][1].system_info is not None
    assert h.results[0][1].duration_ms == 7
    assert "Dropped the Go check engine's last, unfinished line" in caplog.text
    assert "The Go check engine stopped (exit code 137); starting it again in 0.01 s" in (
        caplog.text
    )
    await h.wait_for(lambda: "run 2 has 1 hosts" in caplog.text, "the second run's log line")
    assert "a line on standard error" in caplog.text
    assert KEY_TEXT.splitlines()[1] not in caplog.text


async def test_an_engine_that_never_says_ready_is_started_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, stopped_after: list[GoEngine]
) -> None:
    h = Harness(tmp_path, "never-ready", ready_timeout=0.3)
    stopped_after.append(h.engine)
    await h.engine.set_hosts({7: HOST})
    await h.wait_for(lambda: h.supervisors[0].starts >= 3, "three starts")
    assert "did not say it was ready within 0.3 s" in caplog.text
    assert "starting it again in 0.01 s" in caplog.text
    assert "starting it again in 0.02 s" in caplog.text  # the back-off grows
    assert h.results == []


async def test_malformed_lines_are_logged_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, stopped_after: list[GoEngine]
) -> None:
    h = Harness(tmp_path, "malformed")
    stopped_after.append(h.engine)
    await h.engine.set_hosts({7: HOST, 8: HOST.model_copy(update={"name": "web2"})})
    await h.wait_for(lambda: len(h.results) >= 2, "a result for each host")
    assert sorted(host_id for host_id, _ in h.results) == [7, 8]
    assert caplog.text.count("Ignored a line of the Go check engine") == 5
    assert h.supervisors[0].starts == 1


async def test_a_changed_host_set_is_sent_again(
    tmp_path: Path, stopped_after: list[GoEngine]
) -> None:
    h = Harness(tmp_path, "steady")
    stopped_after.append(h.engine)
    await h.engine.set_hosts({7: HOST})
    await h.wait_for(lambda: len(h.results) >= 1, "the first result")
    await h.engine.set_hosts({7: HOST, 9: HOST.model_copy(update={"name": "web9"})})
    await h.wait_for(lambda: any(i == 9 for i, _ in h.results), "a result of the new host")
    assert h.engine.host_ids == {7, 9}
    assert h.timings[0] == (7, 1.0, 1765100001.0, 1765100001.0, 7)
    assert h.engine.latest_stats is not None
    assert h.engine.latest_stats.goroutines == 9


async def test_the_back_off_starts_again_after_a_long_enough_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, stopped_after: list[GoEngine]
) -> None:
    h = Harness(tmp_path, "crash-always", n=1, stable_seconds=0.0)
    stopped_after.append(h.engine)
    await h.engine.set_hosts({7: HOST})
    await h.wait_for(lambda: h.supervisors[0].starts >= 3, "three starts")
    await h.wait_for(lambda: len(h.results) >= 2, "a result of each run")
    assert "starting it again in 0.01 s" in caplog.text
    assert "starting it again in 0.02 s" not in caplog.text  # every run counted as "up long"


async def test_docker_requests_fail_at_once_when_the_engine_dies(
    tmp_path: Path, stopped_after: list[GoEngine]
) -> None:
    h = Harness(tmp_path, "die-on-get")
    stopped_after.append(h.engine)
    await h.engine.set_hosts({7: HOST})
    await h.wait_for(lambda: len(h.results) >= 1, "the first result")
    with pytest.raises(GoDockerError, match="stopped"):
        await h.engine.docker_get(7, "/containers/abc/json")


async def test_stop_asks_the_engine_to_stop(tmp_path: Path) -> None:
    h = Harness(tmp_path, "steady")
    await h.engine.set_hosts({7: HOST})
    await h.wait_for(lambda: len(h.results) >= 1, "the first result")
    supervisor = h.supervisors[0]
    await h.engine.stop()
    assert not supervisor.running
    assert supervisor.starts == 1

"""The Docker monitor's handling of a host without Docker."""

from __future__ import annotations

from tests.unit.fake_clock import FakeClock
from vpshealth.collectors.docker_access import DockerAccess, DockerAccessError
from vpshealth.collectors.docker_collector import DockerCollector, DockerListing
from vpshealth.engine.docker_monitor import ABSENT_RECHECK_POLLS, DockerMonitor


class AbsentDocker(DockerCollector):
    def __init__(self) -> None:
        self.asked = 0

    async def collect(self) -> DockerListing:
        self.asked += 1
        raise DockerAccessError(DockerAccess.ABSENT, "no Docker socket at /var/run/docker.sock")

    def close(self) -> None:
        return None


async def test_a_host_without_docker_is_asked_again_only_now_and_then() -> None:
    collector = AbsentDocker()
    monitor = DockerMonitor("web1", collector, FakeClock(), follow_events=False)
    reports = [await monitor.poll() for _ in range(2 * (ABSENT_RECHECK_POLLS + 1))]
    assert all(r.containers is None and r.problem is None and not r.changes for r in reports)
    assert collector.asked == 2
    await monitor.close()

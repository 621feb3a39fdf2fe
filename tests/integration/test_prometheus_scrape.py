"""A real Prometheus scrapes the node's /metrics with a token, every second, and its query API
returns our series: the local host's and one checked over the test sshd."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.support.api import api_node
from tests.integration.support.cli import RunCli
from tests.integration.support.prometheus import Prometheus, prometheus_scraping
from tests.integration.support.service import wait_for
from tests.integration.support.sshd import SshServer

pytestmark = pytest.mark.integration


def _until(prometheus: Prometheus, expression: str, value: float, timeout: float = 60) -> None:
    wait_for(
        f"Prometheus to answer {expression} = {value:g}",
        lambda: prometheus.value(expression) == value,
        timeout,
    )


def test_prometheus_scrapes_the_hosts_and_the_engine(
    ssh_server: SshServer, run_cli: RunCli, cli_env: dict[str, str], tmp_path: Path
) -> None:
    added = run_cli(
        "host", "add", "web1", "--address", ssh_server.host, "--port", str(ssh_server.port),
        "--user", ssh_server.user, "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key", "--interval", "5", env=cli_env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with (
        api_node(cli_env) as node,
        prometheus_scraping(node.url.removeprefix("http://"), node.token, tmp_path) as prom,
    ):
        _until(prom, 'up{job="vpshealth"}', 1)
        _until(prom, 'vpshealth_host_up{host="localhost"}', 1)
        _until(prom, 'vpshealth_host_up{host="web1"}', 1)
        _until(prom, 'sum(vpshealth_host_state{host="web1"})', 1)
        assert len(prom.query('vpshealth_host_state{host="web1"}')) == 5
        _until(prom, "vpshealth_engine_up", 1)
        memory = prom.value('vpshealth_host_memory_total_bytes{host="web1"}')
        assert memory is not None
        assert memory > 0
        disks = prom.query('vpshealth_host_disk_used_percent{host="web1"}')
        mounts = {labels["mount"] for labels, _ in disks}
        assert "/" in mounts
        polls = prom.value("vpshealth_poll_duration_seconds_count")
        assert polls is not None
        assert polls >= 2
        assert prom.value("vpshealth_hosts") == 2
        assert prom.value("vpshealth_event_loop_lag_max_seconds") is not None

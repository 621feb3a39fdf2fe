"""A real Prometheus (Debian's `prometheus`) scraping a node's /metrics, for the tests.

See /work/shared/TEST-INFRA.md ("Prometheus, as a real scraper")."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.integration.support.procs import free_port, log_tail, require_binary, stop_process
from tests.integration.support.service import wait_for

PROMETHEUS = "prometheus"


@dataclass
class Prometheus:
    url: str
    log: Path

    def query(self, expression: str) -> list[tuple[dict[str, str], float]]:
        """An instant query: each series' labels and value ([] until it has been scraped)."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expression}, timeout=5)
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return [(r["metric"], float(r["value"][1])) for r in body["data"]["result"]]

    def value(self, expression: str) -> float | None:
        found = self.query(expression)
        return found[0][1] if len(found) == 1 else None


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def prometheus_scraping(target: str, token: str, folder: Path) -> Iterator[Prometheus]:
    """Prometheus on a free loopback port, scraping ``target`` (HOST:PORT) every second with
    ``token``; its database in ``folder``. Stopped by its PID."""
    binary = require_binary(PROMETHEUS, package="prometheus")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: vpshealth\n"
        f"    authorization: {{credentials: '{token}'}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "prometheus.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for("Prometheus to be ready", lambda: proc.poll() is not None or _ready(url), 30)
        assert proc.poll() is None, log_tail(log)
        yield Prometheus(url, log)
    finally:
        stop_process(proc, tree=False)

"""The node's compose stack (deploy/compose.yaml) on the tests' private dockerd.

A compose override of the test's own points the stack at the image the test built, a free
port on 127.0.0.1, the test's secret files and short healthcheck intervals; the project name
is unique, so containers and the volume are the test's alone and are removed by name.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.integration.support.dockerd import DockerEngine

DOCKER_COMPOSE = "docker-compose"
ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
NODE_UID = 10001
SERVICE = "vpshealth"


class ComposeError(RuntimeError):
    """A docker-compose call failed; the message carries its output."""


@dataclass
class ComposeStack:
    engine: DockerEngine
    image: str
    port: int
    workdir: Path
    project: str = field(default_factory=lambda: f"vhnode{secrets.token_hex(4)}")

    @property
    def override_path(self) -> Path:
        return self.workdir / "compose.override.yaml"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def volume(self) -> str:
        return f"{self.project}_vpshealth-data"

    def write_secret(self, name: str, content: bytes) -> Path:
        """A secret file as the node's user can read it (compose bind-mounts it as is)."""
        path = self.workdir / "secrets" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        os.chown(path, NODE_UID, NODE_UID)
        path.chmod(0o400)
        return path

    def write_override(self, environment: dict[str, str], secret_files: dict[str, Path]) -> None:
        # JSON is YAML: no YAML library needed to write it.
        service: dict[str, Any] = {
            "image": self.image,
            "environment": {"VPSHEALTH_API": f"127.0.0.1:{self.port}", **environment},
            "healthcheck": {"interval": "2s", "start_period": "5s"},
            "stop_grace_period": "20s",
        }
        override = {
            "services": {SERVICE: service},
            "secrets": {name: {"file": str(path)} for name, path in secret_files.items()},
        }
        self.override_path.write_text(json.dumps(override, indent=2) + "\n")

    def docker_env(self) -> dict[str, str]:
        """The environment for docker, docker-compose and scripts/build-image: this engine."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        return env | {
            "DOCKER_HOST": self.engine.host,
            "DOCKER_CONFIG": str(self.engine.cli_config_dir),
        }

    def compose(
        self, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [
            DOCKER_COMPOSE, "--ansi", "never", "-p", self.project,
            "-f", str(COMPOSE_FILE), "-f", str(self.override_path), *args,
        ]  # fmt: skip
        result = subprocess.run(
            argv, capture_output=True, text=True, env=self.docker_env(), timeout=timeout,
            check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise ComposeError(
                f"{' '.join(args)} exited with {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def exec(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command in the service's container (``exec -T``)."""
        return self.compose("exec", "-T", SERVICE, *command, check=check)

    def logs(self) -> str:
        try:
            return self.compose("logs", "--no-color", "--tail", "80", timeout=30).stdout
        except (ComposeError, subprocess.TimeoutExpired) as exc:
            return f"<no logs: {exc}>"

    def container(self) -> dict[str, Any]:
        ids = self.compose("ps", "-q", SERVICE).stdout.split()
        if not ids:
            raise ComposeError(f"no container for {SERVICE} in project {self.project}")
        return self.engine.inspect(ids[0])

    def wait_healthy_api(self, timeout: float = 120) -> httpx.Response:
        """Wait until GET /api/v1/health answers 200 ``ok`` (not ``starting``); return it."""
        deadline = time.monotonic() + timeout
        last: str = "no answer yet"
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"{self.base_url}/api/v1/health", timeout=3)
            except httpx.HTTPError as exc:
                last = repr(exc)
            else:
                if answer.status_code == 200 and answer.json().get("status") == "ok":
                    return answer
                last = f"{answer.status_code} {answer.text[:300]}"
            time.sleep(0.5)
        raise AssertionError(
            f"/api/v1/health did not answer 200 ok within {timeout}s (last: {last})\n{self.logs()}"
        )

    def wait_docker_health(self, status: str = "healthy", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.container()["State"].get("Health", {}).get("Status")
            if seen == status:
                return
            time.sleep(0.5)
        raise AssertionError(f"container health stayed {seen!r}, not {status!r}\n{self.logs()}")

    def tear_down(self) -> None:
        """Containers, the volume and the image, by name."""
        try:
            if self.override_path.exists():
                self.compose("down", "--volumes", "--remove-orphans", "--timeout", "20")
        finally:
            self.engine.docker("volume", "rm", "-f", self.volume, check=False)
            self.engine.docker("image", "rm", "-f", self.image, check=False)
            shutil.rmtree(self.workdir, ignore_errors=True)

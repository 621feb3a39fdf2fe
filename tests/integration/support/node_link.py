"""Linking a desktop home to a node over the real sshd (`vpshealth node connect ssh://...`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.integration.support.cli import RunCli
from tests.integration.support.sshd import SshServer


def api_port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def ssh_connect(
    run_cli: RunCli,
    env: dict[str, str],
    sshd: SshServer,
    port: int,
    token: str,
    *trust: str,
    key: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "node",
        "connect",
        f"ssh://{sshd.user}@127.0.0.1:{sshd.port}",
        "--key-file",
        str(key or sshd.client_key_path),
        "--api-port",
        str(port),
        *(trust or ("--host-key-fingerprint", sshd.host_key_fingerprint)),
        "--token-stdin",
        input=token + "\n",
        env=env,
    )

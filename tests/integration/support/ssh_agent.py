"""A real ssh-agent on a private socket, holding one key, stopped by its PID."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.support.service import wait_for


@contextmanager
def ssh_agent(folder: Path, key: Path) -> Iterator[str]:
    """Yields the agent's socket path (for SSH_AUTH_SOCK)."""
    sock = folder / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        wait_for("the ssh-agent socket", sock.exists, 10)
        added = subprocess.run(
            ["ssh-add", str(key)],
            env={"SSH_AUTH_SOCK": str(sock)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert added.returncode == 0, added.stderr
        yield str(sock)
    finally:
        agent.terminate()
        agent.wait(timeout=10)

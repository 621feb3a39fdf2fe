"""Process and port helpers shared by the integration fixtures.

Everything here acts only on processes the tests started themselves, identified by
PID (plus the descendants of such a PID, e.g. sshd's per-connection children).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

# Ports the tests pick come from below the kernel's ephemeral range (Debian: 32768-60999), so
# no outgoing connection's source port takes one between picking and binding, and each xdist
# worker has a slice of its own, so two workers never pick the same one.
# Within a worker they are handed out in turn, so a port picked but not yet bound (a closed
# port for a test, then an sshd's) is not picked again for the next 500 picks.
_PORT_BASE = 20000
_PORTS_PER_WORKER = 500
_port_turns = itertools.count(random.randrange(_PORTS_PER_WORKER))


def worker_index() -> int:
    """This pytest-xdist worker's number (``gw3`` -> 3); 0 without xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw")) if worker.removeprefix("gw").isdigit() else 0


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bound, then closed).

    From this worker's slice below the ephemeral range when there is room for it; else the
    kernel's choice (bind port 0)."""
    first = _PORT_BASE + worker_index() * _PORTS_PER_WORKER
    if first + _PORTS_PER_WORKER <= _ephemeral_low():
        for _ in range(_PORTS_PER_WORKER):
            port = first + next(_port_turns) % _PORTS_PER_WORKER
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port_: int = sock.getsockname()[1]
        return port_


def require_binary(path_or_name: str, *, package: str) -> str:
    """Return the binary's path, or skip the test naming the Debian package to install."""
    found = path_or_name if os.path.isabs(path_or_name) else shutil.which(path_or_name)
    if found is None or not os.access(found, os.X_OK):
        pytest.skip(f"{path_or_name} not found: apt-get install {package} (.ci/run does)")
    return found


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (the tests create a user and run daemons as root)")


def descendants(pid: int) -> list[psutil.Process]:
    """Descendants of ``pid`` (deepest first); empty if the process is already gone."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return list(reversed(children))


def signal_tree(proc: subprocess.Popen[bytes] | subprocess.Popen[str], sig: int) -> None:
    """Send ``sig`` to a process we started and to all its descendants, and wait for them.

    Descendants are collected *before* the parent is signalled: once the parent is dead
    they would be re-parented and could no longer be told apart from other processes.
    The parent itself is not reaped here (the caller ``wait()``s on its Popen).
    """
    kids = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(sig)
    for kid in kids:
        with contextlib.suppress(psutil.NoSuchProcess):
            kid.send_signal(sig)
    alive = _wait_gone(kids, timeout=5)
    for kid in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            kid.kill()
    _wait_gone(alive, timeout=5)


def _is_gone(proc: psutil.Process) -> bool:
    # A dead descendant stays a zombie until its (also dying) parent or init reaps it.
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(procs: list[psutil.Process], *, timeout: float) -> list[psutil.Process]:
    """Wait until every process has exited (or is a zombie); return those still alive."""
    alive = list(procs)
    deadline = time.monotonic() + timeout
    while alive:
        alive = [p for p in alive if not _is_gone(p)]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    return alive


def stop_process(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str],
    *,
    sig: int = signal.SIGTERM,
    timeout: float = 10.0,
    tree: bool = True,
) -> int:
    """Signal a process we started (and optionally its descendants), reap it, return its code.

    Escalates to SIGKILL after ``timeout`` seconds.
    """
    if tree:
        signal_tree(proc, sig)
    elif proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if tree:
            signal_tree(proc, signal.SIGKILL)
        else:
            proc.kill()
        return proc.wait(timeout=timeout)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "<empty>"


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate()`` until it is truthy or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)

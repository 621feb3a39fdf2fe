"""The engine lock (engine.lock): one process runs the checks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpshealth.engine.lock import EngineLock
from vpshealth.errors import ConfigurationError, EngineLockedError


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "engine.lock"


@pytest.fixture
def held(lock_path: Path) -> Iterator[EngineLock]:
    lock = EngineLock(lock_path)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def test_acquire_writes_pid_to_a_private_file(held: EngineLock, lock_path: Path) -> None:
    assert lock_path.read_text() == f"{os.getpid()}\n"
    assert held.owner_pid() == os.getpid()
    assert stat.S_IMODE(lock_path.stat().st_mode) & 0o077 == 0


def test_second_lock_in_same_process_is_refused_with_pid(held: EngineLock, lock_path: Path) -> None:
    with pytest.raises(EngineLockedError) as info:
        EngineLock(lock_path).acquire()
    assert f"(PID {os.getpid()})" in str(info.value)
    assert "already running" in str(info.value)
    assert isinstance(info.value, ConfigurationError)
    assert info.value.exit_code == 2
    # The refused attempt neither took the lock nor rewrote the PID file.
    assert lock_path.read_text() == f"{os.getpid()}\n"


def test_refused_attempt_does_not_leak_descriptors(held: EngineLock, lock_path: Path) -> None:
    fd_dir = Path("/proc/self/fd")
    before = len(list(fd_dir.iterdir()))
    for _ in range(20):
        with pytest.raises(EngineLockedError):
            EngineLock(lock_path).acquire()
    assert len(list(fd_dir.iterdir())) == before


def test_release_lets_another_acquire(lock_path: Path) -> None:
    first = EngineLock(lock_path)
    first.acquire()
    first.release()
    second = EngineLock(lock_path)
    second.acquire()
    try:
        with pytest.raises(EngineLockedError):
            EngineLock(lock_path).acquire()
    finally:
        second.release()
    first.release()  # releasing twice is harmless


def test_context_manager_releases_on_error(lock_path: Path) -> None:
    def fail_while_locked() -> None:
        with EngineLock(lock_path):
            with pytest.raises(EngineLockedError):
                EngineLock(lock_path).acquire()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_while_locked()
    with EngineLock(lock_path) as again:
        assert again.owner_pid() == os.getpid()


def test_stale_pid_file_without_lock_is_taken_over(lock_path: Path) -> None:
    lock_path.write_text("999999\n")
    with EngineLock(lock_path) as lock:
        assert lock.owner_pid() == os.getpid()
        assert lock_path.read_text() == f"{os.getpid()}\n"


def test_owner_pid_without_file_or_with_garbage(lock_path: Path) -> None:
    lock = EngineLock(lock_path)
    assert lock.owner_pid() is None
    lock_path.write_text("not a pid\n")
    assert lock.owner_pid() is None


_CHILD = textwrap.dedent(
    """
    import signal, sys
    from pathlib import Path
    from vpshealth.engine.lock import EngineLock
    lock = EngineLock(Path(sys.argv[1]))
    lock.acquire()
    print("locked", flush=True)
    signal.pause()
    """
)


@pytest.fixture
def child_holding_lock(lock_path: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(lock_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        # Blocks until the child has the lock (bounded by pytest-timeout), no polling.
        line = child.stdout.readline()
        if line != "locked\n":
            child.kill()
            _, err = child.communicate()
            pytest.fail(f"the child did not take the lock: {line!r} {err}")
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def test_lock_held_by_another_process_names_its_pid(
    child_holding_lock: subprocess.Popen[str], lock_path: Path
) -> None:
    child = child_holding_lock
    assert lock_path.read_text() == f"{child.pid}\n"
    assert child.pid != os.getpid()

    with pytest.raises(EngineLockedError) as info:
        EngineLock(lock_path).acquire()
    assert f"(PID {child.pid})" in str(info.value)
    assert f"(PID {os.getpid()})" not in str(info.value)

    # The kernel drops the lock when its holder dies: no stale lock.
    child.kill()
    child.wait()
    with EngineLock(lock_path) as lock:
        assert lock.owner_pid() == os.getpid()

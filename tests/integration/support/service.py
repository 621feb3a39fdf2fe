"""Running `vpshealth service` as a real background process, and waiting on what it does."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from tests.integration.support.procs import wait_until


def start_service(env: Mapping[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vpshealth", "service", *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_service(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGTERM (if still running) and wait; returns (exit code, stderr)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the service did not stop on SIGTERM:\n{err}") from None
    return proc.returncode, err


def wait_for(what: str, predicate: Callable[[], object], timeout: float) -> None:
    """Like ``wait_until``, but a timeout fails the test saying what never happened."""
    if not wait_until(predicate, timeout=timeout, interval=0.2):
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def good_checks(home: Path, name: str) -> int:
    """How many checks of host ``name`` found no problem, as stored in ``home``'s database."""
    return recorded_checks(home, name, good_only=True)


def recorded_checks(home: Path, name: str, *, good_only: bool = False) -> int:
    """How many checks of host ``name`` are stored in ``home``'s database (with
    ``good_only``, those that found no problem)."""
    good = " AND checks.problem IS NULL" if good_only else ""
    conn = sqlite3.connect(home / "data" / "vpshealth.sqlite3", timeout=10)
    try:
        row = conn.execute(
            "SELECT count(*) FROM checks JOIN hosts ON hosts.id = checks.host_id "
            f"WHERE hosts.name = ?{good}",
            (name,),
        ).fetchone()
    finally:
        conn.close()
    return int(row[0])

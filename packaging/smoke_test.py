"""Smoke test of a frozen bundle: it starts, knows its version, checks this computer (so the
migrations and parsers are inside), and reads its database.

Usage: python packaging/smoke_test.py PATH/TO/vpshealth
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(
    binary: Path, *args: str, home: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VPSHEALTH_HOME": str(home / "vpshealth"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        **(extra or {}),
    }
    return subprocess.run(
        [str(binary), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _lines_until_started(proc: subprocess.Popen[str], timeout: float = 90) -> list[str]:
    """The process's stderr lines up to "Service started" (or until ``timeout``)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "Service started" in line or time.monotonic() > deadline:
            break
    return seen


def desktop_app_starts_and_quits(binary: Path, home: Path) -> list[str]:
    """The desktop app, offscreen: it must get as far as running the checks, then stop cleanly on
    SIGTERM (on Windows, where there is no SIGTERM, being terminated is enough)."""
    env = {
        **os.environ,
        "VPSHEALTH_HOME": str(home / "vpshealth-gui"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "QT_QPA_PLATFORM": "offscreen",
    }
    proc = subprocess.Popen(
        [str(binary)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen = _lines_until_started(proc)
    started = any("Service started" in line for line in seen)
    if sys.platform == "win32":
        proc.terminate()
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        _, rest = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, rest = proc.communicate()
        return [f"desktop app did not stop: {''.join(seen)}{rest}"]
    if not started:
        return [f"desktop app did not start: exit {proc.returncode}: {''.join(seen)}{rest}"]
    if sys.platform != "win32" and proc.returncode != 0:
        return [f"desktop app exited {proc.returncode} on SIGTERM: {''.join(seen)}{rest}"]
    return []


def service_starts_and_stops(binary: Path, home: Path, engine: str = "python") -> list[str]:
    """The foreground service runs the checks and stops cleanly when asked: SIGTERM, or on
    Windows Ctrl-Break (a console program there gets no SIGTERM). ``engine`` "go": with the
    Go check engine the bundle ships next to its executable (found without a setting)."""
    folder = "vpshealth-service" if engine == "python" else f"vpshealth-service-{engine}"
    env = {
        **os.environ,
        "VPSHEALTH_HOME": str(home / folder),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "VPSHEALTH_ENGINE": engine,
    }
    env.pop("VPSHEALTH_GO_ENGINE_PATH", None)
    windows = sys.platform == "win32"
    flags = subprocess.CREATE_NEW_PROCESS_GROUP if windows else 0  # type: ignore[attr-defined]
    proc = subprocess.Popen(
        [str(binary), "service"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        creationflags=flags,
    )
    seen = _lines_until_started(proc)
    proc.send_signal(signal.CTRL_BREAK_EVENT if windows else signal.SIGTERM)  # type: ignore[attr-defined]
    try:
        _, rest = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, rest = proc.communicate()
        return [f"service did not stop: {''.join(seen)}{rest}"]
    output = "".join(seen) + rest
    if proc.returncode != 0 or "Service stopped" not in output:
        return [f"service ({engine} engine) did not stop cleanly: exit {proc.returncode}: {output}"]
    if not (home / folder / "logs" / "service.log").is_file():
        return [f"service ({engine} engine): no service.log in the log folder"]
    return []


def go_engine_next_to(binary: Path) -> Path | None:
    """The Go check engine packaging/vpshealth.spec puts beside the executable, if built."""
    engine = binary.with_name("vpshealth-engine" + (".exe" if sys.platform == "win32" else ""))
    return engine if engine.is_file() else None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = Path(argv[1]).resolve()
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        version = run(binary, "--version", home=home)
        if version.returncode != 0 or not version.stdout.startswith("vpshealth "):
            failures.append(
                f"--version: {version.returncode} {version.stdout!r} {version.stderr!r}"
            )
        check = run(binary, "check", "--json", home=home)
        try:
            hosts = json.loads(check.stdout)["hosts"]
            if check.returncode not in (0, 1) or hosts[0]["name"] != "localhost":
                failures.append(f"check --json: exit {check.returncode}, {hosts!r}")
            elif hosts[0]["metrics"] is None:
                failures.append(f"check --json: no metrics: {hosts[0]['message']}")
        except (ValueError, KeyError, IndexError):
            failures.append(f"check --json printed no JSON: {check.stdout!r} {check.stderr!r}")
        stats = run(binary, "db", "stats", "--json", home=home)
        if (
            stats.returncode != 0
            or json.loads(stats.stdout or "{}").get("rows", {}).get("checks") != 1
        ):
            failures.append(f"db stats: {stats.returncode} {stats.stdout!r} {stats.stderr!r}")
        rules = run(binary, "rules", "--json", home=home)
        if rules.returncode != 0:
            failures.append(f"rules: {rules.returncode} {rules.stderr!r}")
        if not (home / "vpshealth" / "logs" / "cli.log").is_file():
            failures.append("check: no cli.log in the log folder")
        failures += service_starts_and_stops(binary, home)
        go_engine = go_engine_next_to(binary)
        if go_engine is not None:
            failures += service_starts_and_stops(binary, home, engine="go")
        elif os.environ.get("VPSHEALTH_BUNDLE_NEEDS_GO_ENGINE") == "1":
            failures.append(f"no Go check engine next to {binary}")
        failures += desktop_app_starts_and_quits(binary, home)
    for failure in failures:
        print(f"SMOKE TEST FAILED: {failure}", file=sys.stderr)
    if not failures:
        print(f"Smoke test passed: {binary} ({os.path.getsize(binary)} bytes executable)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

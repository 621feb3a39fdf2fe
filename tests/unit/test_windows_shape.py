"""The Windows-shaped run (tests/windows_shape/sitecustomize.py) models what it says, and the
package imports nothing POSIX-only at module level."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "vpshealth"
SHAPE = ROOT / "tests" / "windows_shape"
POSIX_ONLY_MODULES = {"fcntl", "termios", "pwd", "grp", "resource", "posix"}

_PROBE = textwrap.dedent(
    """
    import asyncio, os
    results = []
    for name in ("fcntl", "termios", "pwd"):
        try:
            exec("import " + name)
            results.append(name + " imported")
        except ModuleNotFoundError:
            pass
    results += [name for name in ("getuid", "geteuid") if hasattr(os, name)]
    results += [n for n in ("open_unix_connection",) if hasattr(asyncio, n)]
    loop = asyncio.new_event_loop()
    try:
        loop.add_signal_handler(2, print)
        results.append("add_signal_handler worked")
    except NotImplementedError:
        pass
    finally:
        loop.close()
    print(results)
    """
)


def run_shaped(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SHAPE)}
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_package_sees_windows_where_the_shape_says() -> None:
    # The probe runs as a module of the package: only the package's imports are refused.
    code = f"__name__ = 'vpshealth.probe'\nexec(compile({_PROBE!r}, 'vpshealth/probe.py', 'exec'))"
    done = run_shaped(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_version_starts_in_the_shape() -> None:
    done = run_shaped(
        "import sys; from vpshealth.cli.main import main; sys.exit(main(['--version']))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("vpshealth ")


def test_no_module_imports_a_posix_only_module_at_module_level() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found += [
                f"{path.relative_to(SRC)}: {n}"
                for n in names
                if n.partition(".")[0] in POSIX_ONLY_MODULES
            ]
    assert found == []

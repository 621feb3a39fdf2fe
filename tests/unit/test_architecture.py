"""The layering rules of the design, checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "vpshealth"
GUI_MODULES = ("PySide6", "pyqtgraph", "qasync", "shiboken6")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules_under(folder: str) -> list[Path]:
    return sorted((SRC / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules_under("domain"), ids=lambda p: p.name)
def test_domain_imports_nothing_else_of_the_package(path: Path) -> None:
    inside = {m for m in imports_of(path) if m.startswith("vpshealth")}
    assert all(m.startswith("vpshealth.domain") for m in inside), inside


def test_parsers_are_pure() -> None:
    imported = imports_of(SRC / "collectors" / "procfs_parsers.py")
    assert {m for m in imported if m.startswith("vpshealth")} <= {
        "vpshealth.domain.errors",
        "vpshealth.domain.metrics",
    }
    assert not imported & {"os", "subprocess", "socket", "asyncio", "asyncssh", "psutil"}


@pytest.mark.parametrize("layer", ["store", "collectors", "domain"])
def test_lower_layers_do_not_reach_up(layer: str) -> None:
    for path in modules_under(layer):
        for module in imports_of(path):
            assert not module.startswith(("vpshealth.cli", "vpshealth.engine", "vpshealth.app")), (
                f"{path.relative_to(SRC)} imports {module}"
            )


def test_no_gui_toolkit_outside_gui() -> None:
    for path in SRC.rglob("*.py"):
        if "gui" in path.relative_to(SRC).parts:
            continue
        assert not {m for m in imports_of(path) if m.startswith(GUI_MODULES)}, path


LAZY = ("aiosmtplib",)
"""Loaded when an e-mail is sent, not by every command and service (about 1 MB)."""


@pytest.mark.parametrize("argv", [["service", "--once"], ["check"], ["host", "list"]], ids=" ".join)
def test_cli_and_service_run_without_loading_qt(tmp_path: Path, argv: list[str]) -> None:
    """Also with a display: only `vpshealth` without a command loads the desktop app. Nor do
    they load the SMTP client."""
    probe = (
        "import sys\n"
        "from vpshealth.cli.main import main\n"
        f"code = main({argv!r})\n"
        f"loaded = sorted(m for m in sys.modules if m.startswith({GUI_MODULES + LAZY!r}))\n"
        "print('LOADED', loaded, 'CODE', code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"VPSHEALTH_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "DISPLAY": ":4242"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "LOADED [] CODE" in done.stdout, done.stderr

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


def test_parsers_are_pure() -> None:
    imported = imports_of(SRC / "collectors" / "procfs_parsers.py")
    assert {m for m in imported if m.startswith("vpshealth")} <= {
        "vpshealth.domain.errors",
        "vpshealth.domain.metrics",
    }
    assert not imported & {"os", "subprocess", "socket", "asyncio", "asyncssh", "psutil"}


FACES = frozenset({"cli", "gui", "api"})
"""What a person uses. A face may use every layer below it, but no other face."""

_BASE = frozenset({"errors", "clock", "config"})
_BELOW_FACES = frozenset(
    {
        "errors", "clock", "config", "logging_setup", "secrets", "domain", "collectors",
        "store", "alerts", "engine", "startup", "operations", "resources", "read_model",
        "sync",
    }
)  # fmt: skip
LAYERS: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "clock": frozenset(),
    "config": frozenset(),
    "logging_setup": frozenset(),
    "resources": frozenset(),
    "domain": frozenset(),
    "secrets": frozenset({"errors"}),
    "startup": frozenset({"errors"}),
    "collectors": frozenset({"domain", "errors"}),
    "store": frozenset({"domain", "config", "errors"}),
    "alerts": _BASE | {"domain", "store", "secrets"},
    "engine": _BASE | {"domain", "collectors", "store", "secrets"},
    "sync": _BASE | {"domain", "collectors", "store", "secrets"},
    "operations": _BASE
    | {"domain", "collectors", "store", "secrets", "alerts", "read_model", "sync"},
    "read_model": frozenset({"domain", "collectors", "store"}),
    "app": _BELOW_FACES | {"api"},
    "api": _BELOW_FACES,
    "cli": _BELOW_FACES | {"app", "logging_setup"},
    "gui": _BELOW_FACES | {"app"},
    "launcher": frozenset({"cli", "gui", "config"}),
    "__main__": frozenset({"launcher"}),
    "__init__": frozenset(),
}
"""Each part of the package (a subpackage or a top-level module) and the parts it may import,
besides itself. A part missing here fails the test until it is given its place."""


def part_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def import_graph() -> dict[str, set[str]]:
    """Each source file (relative to the package) and the vpshealth modules it imports,
    including imports inside functions."""
    return {
        str(path.relative_to(SRC)): {m for m in imports_of(path) if m.startswith("vpshealth.")}
        for path in sorted(SRC.rglob("*.py"))
    }


def layer_violations(graph: dict[str, set[str]], layers: dict[str, frozenset[str]]) -> list[str]:
    found = []
    for file, modules in sorted(graph.items()):
        part = Path(file).parts[0].removesuffix(".py")
        if part not in layers:
            found.append(f"{file}: '{part}' has no place in LAYERS")
            continue
        for module in sorted(modules):
            target = part_of(module)
            if target == part or target in layers[part]:
                continue
            why = "a face imports another face" if {part, target} <= FACES else "not allowed"
            found.append(f"{file} imports {module} ({why})")
    return found


def layer_cycles(graph: dict[str, set[str]]) -> list[str]:
    """Loops between parts, e.g. engine -> alerts -> engine."""
    edges: dict[str, set[str]] = {}
    for file, modules in graph.items():
        part = Path(file).parts[0].removesuffix(".py")
        edges.setdefault(part, set()).update(t for t in map(part_of, modules) if t != part)
    loops = []
    for start in sorted(edges):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    loops.append(" -> ".join([*path, start]))
                elif nxt not in path and nxt > start:
                    stack.append((nxt, [*path, nxt]))
    return loops


def test_every_part_imports_only_what_its_layer_allows() -> None:
    assert layer_violations(import_graph(), LAYERS) == []


def test_the_parts_import_each_other_without_loops() -> None:
    assert layer_cycles(import_graph()) == []


def test_the_rules_themselves_have_no_loops_and_keep_faces_apart() -> None:
    allowed = {part: set(deps) for part, deps in LAYERS.items()}
    assert layer_cycles({f"{part}.py": {f"vpshealth.{d}" for d in deps} for part, deps in
                         allowed.items()}) == []  # fmt: skip
    for face in FACES:
        assert not LAYERS[face] & FACES, face


def test_the_check_finds_a_face_importing_another_face() -> None:
    graph = {"gui/host_actions.py": {"vpshealth.cli.host_keys", "vpshealth.domain.hosts"}}
    assert layer_violations(graph, LAYERS) == [
        "gui/host_actions.py imports vpshealth.cli.host_keys (a face imports another face)"
    ]


def test_the_check_finds_an_engine_alerts_loop() -> None:
    graph = {
        "engine/service.py": {"vpshealth.alerts.email_worker"},
        "alerts/email_worker.py": {"vpshealth.engine.clock"},
    }
    assert layer_violations(graph, LAYERS) == [
        "alerts/email_worker.py imports vpshealth.engine.clock (not allowed)",
        "engine/service.py imports vpshealth.alerts.email_worker (not allowed)",
    ]
    assert layer_cycles(graph) == ["alerts -> engine -> alerts"]


@pytest.mark.parametrize(
    ("face", "other"), [(f, o) for f in sorted(FACES) for o in sorted(FACES) if f != o]
)
def test_no_face_may_import_another_face(face: str, other: str) -> None:
    graph = {f"{face}/x.py": {f"vpshealth.{other}.y", "vpshealth.operations.hosts"}}
    assert layer_violations(graph, LAYERS) == [
        f"{face}/x.py imports vpshealth.{other}.y (a face imports another face)"
    ]


def test_operations_are_no_face_and_run_no_engine() -> None:
    graph = {
        "operations/hosts.py": {
            "vpshealth.cli.output",
            "vpshealth.gui.tasks",
            "vpshealth.api.routes",
            "vpshealth.engine.service",
            "vpshealth.store.host_repository",
        }
    }
    assert layer_violations(graph, LAYERS) == [
        f"operations/hosts.py imports vpshealth.{m} (not allowed)"
        for m in ("api.routes", "cli.output", "engine.service", "gui.tasks")
    ]


def test_a_new_part_must_be_given_its_place() -> None:
    assert layer_violations({"plugins/client.py": set()}, LAYERS) == [
        "plugins/client.py: 'plugins' has no place in LAYERS"
    ]


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

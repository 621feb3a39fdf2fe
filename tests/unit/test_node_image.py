"""The node's container image: its pinned requirements follow uv.lock and leave Qt out; its
healthcheck asks the address the service listens on."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESKTOP_ONLY = {"pyside6-essentials", "shiboken6", "pyqtgraph", "qasync", "numpy"}


def _pins() -> dict[str, str]:
    lines = (ROOT / "deploy" / "node-requirements.txt").read_text().splitlines()
    pins = {}
    for line in lines:
        requirement = line.split(";")[0].strip()
        if requirement and not requirement.startswith("#"):
            name, version = requirement.split("==")
            pins[name] = version
    return pins


def test_node_requirements_are_generated_from_the_lock() -> None:
    if shutil.which("uv") is None:
        pytest.skip("uv not on PATH")
    generated = subprocess.run(
        [str(ROOT / "scripts" / "node-requirements")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert generated == (ROOT / "deploy" / "node-requirements.txt").read_text(), (
        "deploy/node-requirements.txt is out of date: "
        "scripts/node-requirements > deploy/node-requirements.txt"
    )


def test_node_requirements_pin_every_runtime_dependency_but_the_desktop_ones() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = {
        dependency.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
        for dependency in project["dependencies"]
    }
    pins = _pins()
    assert not DESKTOP_ONLY & pins.keys()
    assert direct - DESKTOP_ONLY <= pins.keys()
    locked = {
        package["name"]: package["version"]
        for package in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    }
    assert all(locked.get(name) == version for name, version in pins.items())


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "deploy" / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("api", "tls", "url"),
    [
        ("127.0.0.1:8765", False, "http://127.0.0.1:8765/api/v1/health"),
        ("0.0.0.0:9000", True, "https://127.0.0.1:9000/api/v1/health"),
        ("[::1]:8765", False, "http://[::1]:8765/api/v1/health"),
        ("[::]:8765", True, "https://127.0.0.1:8765/api/v1/health"),
        ("10.0.0.5:8443", True, "https://10.0.0.5:8443/api/v1/health"),
    ],
)
def test_healthcheck_asks_where_the_service_listens(
    healthcheck: ModuleType, api: str, tls: bool, url: str
) -> None:
    assert healthcheck.health_url(api, tls) == url

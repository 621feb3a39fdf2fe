"""The shared test vectors (tests/fixtures/vectors/, written by scripts/make-test-vectors) hold
what the Python parsers make of each input; the Go engine's parsers are tested against the same
files. Here: every vector still holds for the Python side, and the files are up to date."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vpshealth.collectors import docker_collector, remote_commands
from vpshealth.collectors.docker_logs import parse_logs
from vpshealth.collectors.docker_parsers import (
    parse_container_list,
    parse_event,
    parse_inspect,
    parse_stats,
)
from vpshealth.collectors.procfs_parsers import parse_snapshot, parse_system_info
from vpshealth.domain.containers import container_cpu_percent, container_memory_bytes
from vpshealth.domain.docker_json import (
    container_from_json,
    event_from_json,
    stats_from_json,
    summary_to_json,
)
from vpshealth.domain.errors import ParseError
from vpshealth.domain.snapshot_json import snapshot_from_json, system_info_from_json

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "fixtures" / "vectors"


def load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / name).read_text())
    return cases


def raw_input(case: dict[str, Any]) -> bytes:
    if "input_file" in case:
        return (ROOT / case["input_file"]).read_bytes()
    if "input_base64" in case:
        return base64.b64decode(case["input_base64"])
    text: str = case["input"]
    return text.encode("utf-8", errors="surrogatepass")


PROCFS = load("procfs.json")
DOCKER = load("docker.json")

_PROCFS_PARSERS: dict[str, tuple[Callable[[str], Any], Callable[[Any], Any]]] = {
    "snapshot": (parse_snapshot, snapshot_from_json),
    "system_info": (parse_system_info, system_info_from_json),
}


def _listing_from_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return rows  # a ContainerSummary is compared in its JSON shape


_DOCKER_PARSERS: dict[str, tuple[Callable[[bytes], Any], Callable[[Any], Any]]] = {
    "list": (lambda body: [summary_to_json(row) for row in parse_container_list(body)],
             _listing_from_json),
    "inspect": (parse_inspect, container_from_json),
    "stats": (parse_stats, stats_from_json),
    "event": (parse_event, lambda data: None if data is None else event_from_json(data)),
}  # fmt: skip


def test_there_are_enough_vectors_of_each_kind() -> None:
    kinds = [case["kind"] for case in PROCFS + DOCKER]
    refused = sum(1 for case in PROCFS if case.get("error"))
    assert refused >= 15
    for kind in (*_PROCFS_PARSERS, *_DOCKER_PARSERS, "cpu_percent", "memory", "logs"):
        assert kinds.count(kind) >= 10, kind


@pytest.mark.parametrize("case", PROCFS, ids=[case["name"] for case in PROCFS])
def test_procfs_vector(case: dict[str, Any]) -> None:
    parse, from_json = _PROCFS_PARSERS[case["kind"]]
    text = raw_input(case).decode("utf-8", "replace")  # as collectors/ssh.py decodes it
    if case.get("error"):
        with pytest.raises(ParseError):
            parse(text)
    else:
        assert parse(text) == from_json(case["expected"])


_PARSED = [case for case in DOCKER if case["kind"] in _DOCKER_PARSERS]


@pytest.mark.parametrize("case", _PARSED, ids=[case["name"] for case in _PARSED])
def test_docker_vector(case: dict[str, Any]) -> None:
    parse, from_json = _DOCKER_PARSERS[case["kind"]]
    body = raw_input(case)
    if case.get("error"):
        with pytest.raises(ParseError):
            parse(body)
    else:
        assert parse(body) == from_json(case["expected"])


_FORMULAS = [case for case in DOCKER if case["kind"] in ("cpu_percent", "memory", "logs")]


@pytest.mark.parametrize("case", _FORMULAS, ids=[case["name"] for case in _FORMULAS])
def test_formula_vector(case: dict[str, Any]) -> None:
    match case["kind"]:
        case "cpu_percent":
            before, after = stats_from_json(case["before"]), stats_from_json(case["after"])
            assert container_cpu_percent(before, after) == case["expected"]
        case "memory":
            assert container_memory_bytes(stats_from_json(case["stats"])) == case["expected"]
        case "logs":
            body = raw_input(case)
            text = parse_logs(body, case["tty"], lines=case["lines"], max_bytes=case["max_bytes"])
            assert text == case["expected"]


def test_the_commands_are_the_ones_run() -> None:
    commands = json.loads((VECTORS / "commands.json").read_text())
    followed = commands.pop("FOLLOWED_EVENTS")
    assert followed == list(docker_collector.FOLLOWED_EVENTS)
    assert commands == {name: getattr(remote_commands, name) for name in commands}
    assert "POLL_SHELL_COMMAND" in commands


def test_the_vector_files_are_up_to_date() -> None:
    """A parser or fixture changed without the vectors regenerated fails here."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-test-vectors"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""When this computer is linked to a node, the faces read the node's copy: Core's choice, the
CLI's read commands with their line about an old copy, and the commands that run checks."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.copy_support import NODE_ADDRESS, link_with_copy
from tests.unit.operations_support import MemoryKeyring, make_core
from vpshealth.app import Core, build_core
from vpshealth.cli.main import main
from vpshealth.cli.output import stale_copy_line
from vpshealth.config import Settings
from vpshealth.domain.hosts import Host
from vpshealth.secrets import SecretStore


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    core = make_core(tmp_path, MemoryKeyring())
    try:
        yield core
    finally:
        core.close()


def _names(core: Core) -> list[str]:
    return [r.host.name for r in core.read_model.fleet(time.time()).records]


def test_without_a_link_the_faces_read_this_computers_database(core: Core) -> None:
    core.hosts.add(Host(name="mine", address="192.0.2.1"))
    assert core.reads.node is None
    assert core.reads.engine is core.engine
    assert _names(core) == ["localhost", "mine"]


def test_linked_the_faces_read_the_copy_and_go_back_when_unlinked(core: Core) -> None:
    core.hosts.add(Host(name="mine", address="192.0.2.1"))
    now = time.time()
    link_with_copy(core, ["web1", "db1"], synced_at=now - 30, now=now)
    assert core.reads.node is not None
    assert core.reads.node.address.text == NODE_ADDRESS
    assert core.reads.synced_at == pytest.approx(now - 30)
    assert sorted(_names(core)) == ["db1", "web1"]
    assert [r.host.name for r in core.reads.hosts.list()] == ["db1", "web1"]
    assert core.history.metrics_of(core.reads.hosts.get("web1").id) == []
    # the checks and the edits stay on this computer's database
    assert [r.host.name for r in core.hosts.list()] == ["localhost", "mine"]
    core.operations.node.disconnect()
    core.choose_reads_again()
    assert _names(core) == ["localhost", "mine"]


def test_the_stale_copy_line_names_the_node_and_the_age() -> None:
    now = 1_800_000_000.0
    assert stale_copy_line("ssh://root@n1", now - 60, now) is None
    assert (
        stale_copy_line("ssh://root@n1", now - 2 * 3600, now)
        == "Offline copy of node ssh://root@n1, last synced 2 h ago (vpshealth node sync)"
    )
    assert stale_copy_line("ssh://root@n1", None, now) == (
        "Offline copy of node ssh://root@n1, never synced yet (vpshealth node sync)"
    )


def _linked_home(home: Path, synced_ago: float | None) -> None:
    core = build_core(Settings(home=home), secrets=SecretStore(MemoryKeyring()))
    try:
        now = time.time()
        core.hosts.add(Host(name="mine", address="192.0.2.1"))
        link_with_copy(
            core, ["web1"], synced_at=None if synced_ago is None else now - synced_ago, now=now
        )
    finally:
        core.close()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_read_commands_show_the_copy_with_one_line_when_it_is_old(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _linked_home(cli_home, synced_ago=2 * 3600 + 60)
    code, out, err = _run(capsys, "host", "list", "--json")
    assert code == 0
    assert [h["name"] for h in json.loads(out)["hosts"]] == ["web1"]
    line = f"Offline copy of node {NODE_ADDRESS}, last synced 2 h ago (vpshealth node sync)"
    assert err == line + "\n"
    code, out, err = _run(capsys, "host", "show", "web1")
    assert code == 0
    assert "Name:        web1" in out
    assert err.count("\n") == 1
    code, out, err = _run(capsys, "incidents")
    assert (code, out.strip()) == (0, "No incidents recorded.")
    assert err.startswith("Offline copy of node")
    code, out, err = _run(capsys, "events", "--json")
    assert (code, json.loads(out), err.count("\n")) == (0, {"events": []}, 1)
    code, out, err = _run(capsys, "containers", "web1", "--json")
    assert (code, json.loads(out)["containers"], err.count("\n")) == (0, [], 1)


def test_a_fresh_copy_is_shown_without_a_line(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _linked_home(cli_home, synced_ago=20)
    code, out, err = _run(capsys, "host", "list")
    assert (code, err) == (0, "")
    assert out.splitlines()[1].startswith("web1")


@pytest.mark.parametrize("argv", [("service",), ("service", "--once"), ("service", "install")])
def test_service_refuses_while_linked(
    argv: tuple[str, ...], cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _linked_home(cli_home, synced_ago=20)
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == (
        f"vpshealth: This computer is linked to the node {NODE_ADDRESS}, which runs the checks; "
        "run `vpshealth node disconnect` first to run them on this computer.\n"
    )


def test_check_says_the_node_runs_the_checks(
    cli_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _linked_home(cli_home, synced_ago=20)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = _run(capsys, "check", "nosuchhost")
    assert code == 2
    assert err.startswith(f"Note: this computer is linked to the node {NODE_ADDRESS}, which runs")

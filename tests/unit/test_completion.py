"""Shell completion: the scripts shtab makes from the parser, run in a real bash (and fish and
zsh where installed; .ci/run installs them), host names completed from `vpshealth host list`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vpshealth.cli import completion
from vpshealth.cli.main import build_parser, main
from vpshealth.domain.hosts import Host
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository

BASH_COMPLETE = """\
source "$1"
read -ra COMP_WORDS <<< "$2"
[[ "$2" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$2"
COMP_POINT=${#2}
_shtab_vpshealth vpshealth "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
printf '%s\\n' "${COMPREPLY[@]}"
"""


@pytest.fixture
def scripts(tmp_path: Path) -> dict[str, Path]:
    parser = build_parser()
    written = {}
    for shell in completion.SHELLS:
        path = tmp_path / f"vpshealth.{shell}"
        path.write_text(completion.completion_script(parser, shell))
        written[shell] = path
    return written


@pytest.fixture
def shell_env(cli_home: Path) -> dict[str, str]:
    """`vpshealth` of this environment first on PATH, a home with the hosts web1 and web2."""
    assert main(["host", "list"]) == 0
    engine = open_database(cli_home / "data" / "vpshealth.sqlite3")
    try:
        for name in ("web1", "web2"):
            HostRepository(engine).add(Host(name=name, address="203.0.113.10"))
    finally:
        engine.dispose()
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path}


def bash_complete(script: Path, line: str, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        ["bash", "-c", BASH_COMPLETE, "bash", str(script), line],
        capture_output=True, text=True, check=True, env=env, timeout=60,
    )  # fmt: skip
    return done.stdout.split()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("vpshealth ho", ["host"]),
        ("vpshealth host ", ["add", "list", "show", "edit", "remove", "trust"]),
        ("vpshealth db ", ["stats", "vacuum", "backup"]),
        ("vpshealth autostart ", ["on", "off", "status"]),
        ("vpshealth check --n", ["--nagios"]),
        ("vpshealth completion ", ["bash", "zsh", "fish"]),
        ("vpshealth service status --j", ["--json"]),
    ],
)
def test_bash_completes_commands_options_and_choices(
    scripts: dict[str, Path], line: str, expected: list[str]
) -> None:
    assert bash_complete(scripts["bash"], line) == expected


def test_bash_completes_host_names_from_host_list(
    scripts: dict[str, Path], shell_env: dict[str, str]
) -> None:
    assert bash_complete(scripts["bash"], "vpshealth host show ", shell_env) == [
        "localhost",
        "web1",
        "web2",
    ]
    assert bash_complete(scripts["bash"], "vpshealth check web", shell_env) == ["web1", "web2"]
    assert bash_complete(scripts["bash"], "vpshealth snooze w", shell_env) == ["web1", "web2"]
    assert bash_complete(scripts["bash"], "vpshealth host add w", shell_env) == [], "a new name"


def test_bash_completes_files(scripts: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "backup-here").mkdir()
    line = f"vpshealth db backup {tmp_path}/backup-"
    assert bash_complete(scripts["bash"], line) == [f"{tmp_path}/backup-here"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_script_parses_and_completes_host_names(
    scripts: dict[str, Path], shell_env: dict[str, str]
) -> None:
    script = str(scripts["fish"])
    subprocess.run(["fish", "-n", script], check=True, timeout=60)
    done = subprocess.run(
        ["fish", "-c", f"source {script}; complete -C 'vpshealth host show w'"],
        capture_output=True, text=True, check=True, env=shell_env, timeout=60,
    )  # fmt: skip
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == ["web1", "web2"]


@pytest.fixture
def fake_vpshealth(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A `vpshealth` first on PATH that prints a host list and notes each call."""
    folder, calls = tmp_path / "bin", tmp_path / "calls"
    folder.mkdir()
    fake = folder / "vpshealth"
    fake.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        "printf 'NAME  ADDRESS\\nalpha  203.0.113.1\\nbeta  203.0.113.2\\n'\n"
    )
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}, calls


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_registers_the_script_and_lists_hosts_only_when_asked(
    scripts: dict[str, Path], tmp_path: Path, fake_vpshealth: tuple[dict[str, str], Path]
) -> None:
    """fpath is how the .deb installs it (vendor-completions); eval is what --help says.
    Loading the script runs nothing; the host names come when a host is to be completed."""
    env, calls = fake_vpshealth
    subprocess.run(["zsh", "-n", str(scripts["zsh"])], check=True, timeout=60)
    folder = tmp_path / "fpath"
    folder.mkdir()
    shutil.copy(scripts["zsh"], folder / "_vpshealth")
    # compinit itself and its base functions only: scanning every completion takes long
    base = "${(M)fpath:#*/Completion} ${(M)fpath:#*/Completion/Base}"
    start = f"autoload -U compinit; compinit -u -d {tmp_path}/zcompdump"
    for setup, registered in (
        (f"fpath=({folder} {base}); {start}", "_vpshealth"),
        (f'fpath=({base}); {start}; eval "$(cat {scripts["zsh"]})"', "_shtab_vpshealth"),
    ):
        done = subprocess.run(
            ["zsh", "-fc", f"{setup}; print -r -- $_comps[vpshealth]"],
            capture_output=True, text=True, check=True, timeout=60, env=env,
        )  # fmt: skip
        assert done.stdout.strip() == registered
    assert not calls.exists(), "loading the script asked for no host list"
    stub = "compadd() { print -l -- ${(P)2} }"  # prints what it is given to offer
    listing = subprocess.run(
        ["zsh", "-fc", f"{setup}; {stub}; _vpshealth_hosts"],
        capture_output=True, text=True, check=True, timeout=60, env=env,
    )  # fmt: skip
    assert listing.stdout.split() == ["alpha", "beta"]
    assert calls.read_text() == "host list\n"


def test_the_command_prints_the_script_without_touching_any_file(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", "bash"]) == 0
    assert "_shtab_vpshealth()" in capsys.readouterr().out
    assert list(cli_home.iterdir()) == []


def test_every_marked_argument_exists() -> None:
    completion.mark_completers(build_parser())
    with pytest.raises(LookupError, match="`vpshealth host add` has no argument 'nope'"):
        completion._argument(build_parser(), ("host", "add"), "nope")

"""vpshealth(1): generated from the parser, every command and option in it, rendered by groff
without a warning (.ci/run installs groff-base)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vpshealth.cli import manpage
from vpshealth.cli.main import build_parser


@pytest.fixture(scope="module")
def page() -> str:
    return manpage.manpage(build_parser(), version="1.2.3", date="2027-01-15")


def test_the_header_and_the_sections(page: str) -> None:
    assert page.startswith('.TH VPSHEALTH 1 "2027-01-15" "vpshealth 1.2.3" "User Commands"\n')
    sections = [line for line in page.splitlines() if line.startswith(".SH ")]
    assert sections == [
        ".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH COMMANDS",
        ".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES", ".SH SEE ALSO",
    ]  # fmt: skip
    assert "\n.B VPSHEALTH_HOME\n" in page


def test_every_command_and_option_is_in_it(page: str) -> None:
    parser = build_parser()
    for path, sub, _ in manpage.commands(parser):
        assert f'.SS "{manpage.text(" ".join(("vpshealth", *path)))}"' in page
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help", "-v", "--verbose"):
                    assert f"\\fB{manpage.text(option)}\\fR" in page, (path, option)
    assert '.SS "vpshealth check"\n.PP\n\\fBvpshealth check\\fR [\\fINAME\\fR\\ ...]' in page
    assert "\\fB\\-\\-nagios\\fR" in page


@pytest.mark.parametrize(
    ("plain", "roff"),
    [
        ("a-b", "a\\-b"),
        ("C:\\vh", "C:\\evh"),
        (".hidden request", "\\&.hidden request"),
        ("'quoted", "\\&'quoted"),
    ],
)
def test_text_is_escaped(plain: str, roff: str) -> None:
    assert manpage.text(plain) == roff


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_groff_renders_it_without_a_warning(page: str, tmp_path: Path) -> None:
    source = tmp_path / "vpshealth.1"
    source.write_text(page)
    done = subprocess.run(
        ["groff", "-man", "-Tutf8", "-P-cbou", "-ww", "-rCHECKSTYLE=3", str(source)],
        capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )  # fmt: skip
    assert done.stderr == ""
    assert "vpshealth host add NAME [OPTIONS]" in done.stdout


def test_groff_does_warn_about_a_broken_page(tmp_path: Path) -> None:
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed")
    source = tmp_path / "broken.1"
    source.write_text(".TH X 1\n.SH NAME\n.XX not a macro\n")
    done = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z", str(source)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "warning" in done.stderr


def test_the_module_writes_the_file_with_the_source_date(tmp_path: Path) -> None:
    target = tmp_path / "vpshealth.1"
    subprocess.run(
        [sys.executable, "-m", "vpshealth.cli.manpage", str(target)],
        check=True, timeout=60, env={**os.environ, "SOURCE_DATE_EPOCH": "1800000000"},
    )  # fmt: skip
    assert target.read_text().startswith('.TH VPSHEALTH 1 "2027-01-15" ')


def test_subparsers_without_their_own_options_list_none(page: str) -> None:
    block = page.split('.SS "vpshealth host"\n')[1].split(".SS", maxsplit=1)[0]
    assert ".TP" not in block

"""The man page vpshealth(1), written in roff from the argparse definitions and the settings.

``python -m vpshealth.cli.manpage [FILE]`` writes it (``scripts/make-manpage`` and the .deb
build call it). The date is ``SOURCE_DATE_EPOCH``'s when set, for reproducible builds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator

from vpshealth import __version__
from vpshealth.cli.main import build_parser
from vpshealth.config import Settings

SUMMARY = "watch Linux servers and their containers over SSH"

EXIT_STATUS = [
    ("0", "Every checked host is ok; the command did what it was asked."),
    ("1", "At least one host is not ok, a connection or a delivery failed, an incident is open, "
     "or the service is not running (service status)."),
    ("2", "Usage, input or configuration error: nothing was changed."),
    ("130", "Interrupted (Ctrl-C)."),
]  # fmt: skip

NAGIOS_STATUS = (
    "With check --nagios the exit status follows the Nagios plugin guidelines: 0 OK, 1 WARNING, "
    "2 CRITICAL (also a host that cannot be reached), 3 UNKNOWN (e.g. no such host)."
)

FILES = [
    ("$VPSHEALTH_HOME/data/vpshealth.sqlite3", "The database (with VPSHEALTH_HOME unset: the "
     "platform's data folder, e.g. ~/.local/share/vpshealth)."),
    ("$VPSHEALTH_HOME/logs/", "The log files."),
    ("$VPSHEALTH_HOME/data/backups/", "Copies of the database taken before a schema upgrade."),
]  # fmt: skip

SEE_ALSO = "ssh(1), ssh\\-keygen(1), systemctl(1)"


def manpage(parser: argparse.ArgumentParser, *, version: str, date: str) -> str:
    prog = parser.prog
    lines = [
        f'.TH {prog.upper()} 1 "{date}" "{prog} {version}" "User Commands"',
        ".SH NAME",
        f"{prog} \\- {text(SUMMARY)}",
        ".SH SYNOPSIS",
        f".B {prog}",
        "[\\fIOPTIONS\\fR] [\\fICOMMAND\\fR [\\fIARGUMENTS\\fR]]",
        ".SH DESCRIPTION",
        *paragraphs(parser.description or ""),
        ".PP",
        f"Without a command, {prog} starts the desktop app when there is a display.",
        ".SH OPTIONS",
        *options(parser, shared=()),
        ".SH COMMANDS",
    ]
    shared = ("-h", "-v")
    for path, sub, help_text in commands(parser):
        lines += [f'.SS "{text(" ".join((prog, *path)))}"', *synopsis(prog, path, sub)]
        lines += paragraphs(sub.description or help_text)
        if sub.epilog:
            lines += [".PP", ".nf", *(text(line) for line in sub.epilog.splitlines()), ".fi"]
        lines += options(sub, shared=shared)
    lines += [".SH EXIT STATUS"]
    for code, meaning in EXIT_STATUS:
        lines += [".TP", f".B {code}", text(meaning)]
    lines += [".PP", text(NAGIOS_STATUS), ".SH ENVIRONMENT", *environment(), ".SH FILES"]
    for file, meaning in FILES:
        lines += [".TP", f".I {text(file)}", text(meaning)]
    lines += [".SH SEE ALSO", SEE_ALSO, ""]
    return "\n".join(lines)


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Every command and sub-command, depth first, with its one-line help."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            yield (*path, name), sub, helps.get(name, "")
            yield from commands(sub, (*path, name))


def synopsis(prog: str, path: tuple[str, ...], parser: argparse.ArgumentParser) -> list[str]:
    words = [f"\\fB{text(' '.join((prog, *path)))}\\fR"]
    for action in parser._actions:
        if action.option_strings or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            words.append(f"\\fI{text(str(action.metavar or 'COMMAND'))}\\fR")
            continue
        name = f"\\fI{text(_metavar(action))}\\fR"
        if action.nargs == "?":
            name = f"[{name}]"
        elif action.nargs in ("*", "+"):
            name = f"{name}\\ ..." if action.nargs == "+" else f"[{name}\\ ...]"
        words.append(name)
    if any(a.option_strings and not _shared(a, ("-h", "-v")) for a in parser._actions):
        words.append("[\\fIOPTIONS\\fR]")
    return [".PP", " ".join(words)]


def options(parser: argparse.ArgumentParser, *, shared: tuple[str, ...]) -> list[str]:
    formatter = parser._get_formatter()
    lines = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        if _shared(action, shared):
            continue
        value = "" if action.nargs == 0 else f" \\fI{text(_metavar(action))}\\fR"
        names = ", ".join(f"\\fB{text(option)}\\fR{value}" for option in action.option_strings)
        help_text = formatter._expand_help(action) if action.help else ""
        lines += [".TP", names, text(help_text)]
    return lines


def environment() -> list[str]:
    lines = []
    for name, field in Settings.model_fields.items():
        meaning = field.description or ""
        default = field.get_default()
        if default is not None and default != "":
            meaning = f"{meaning} (default {default})" if meaning else f"Default {default}."
        lines += [".TP", f".B VPSHEALTH_{name.upper()}", text(meaning or "See docs/cli.md.")]
    return lines


def paragraphs(body: str) -> list[str]:
    lines = []
    for paragraph in body.split("\n\n"):
        lines += [".PP", text(" ".join(paragraph.split()))]
    return lines


def text(value: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no line taken for a request."""
    escaped = value.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(
        f"\\&{line}" if line.startswith((".", "'")) else line for line in escaped.split("\n")
    )


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, tuple):
        return " ".join(action.metavar)
    if action.metavar is not None:
        return action.metavar
    if action.choices is not None:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return action.dest.upper()


def _shared(action: argparse.Action, shared: tuple[str, ...]) -> bool:
    return any(option in shared for option in action.option_strings)


def main(argv: list[str]) -> int:
    stamp = float(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
    page = manpage(
        build_parser(), version=__version__, date=time.strftime("%Y-%m-%d", time.gmtime(stamp))
    )
    if argv:
        with open(argv[0], "w", encoding="utf-8") as out:
            out.write(page)
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

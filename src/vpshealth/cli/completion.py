"""`vpshealth completion bash | zsh | fish`: the shell completion script, made by shtab from the
argparse definitions, with host names completed from `vpshealth host list`."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import shtab

from vpshealth.errors import EXIT_OK

SHELLS = ("bash", "zsh", "fish")

HOST_LIST = "vpshealth host list 2>/dev/null | tail -n +2 | cut -d' ' -f1"
"""The names of the hosts: the first column of `vpshealth host list`, below its header."""

ZSH_HOSTS = f"""\
_vpshealth_hosts() {{
  local -a hosts
  hosts=(${{(f)"$({HOST_LIST})"}})
  compadd -a hosts
}}"""
"""A function: shtab's ``$(...)`` would run in zsh when the script loads, once per argument."""

_LISTED = shtab.cmd(HOST_LIST)
HOST_NAMES = {
    **_LISTED,
    "zsh": "_vpshealth_hosts",
    "preamble": {**_LISTED["preamble"], "zsh": ZSH_HOSTS},  # type: ignore[dict-item]
}

HOST_ARGUMENTS: Mapping[tuple[str, ...], str] = {
    ("host", "show"): "name",
    ("host", "edit"): "name",
    ("host", "remove"): "name",
    ("host", "trust"): "name",
    ("check",): "names",
    ("history",): "name",
    ("containers",): "name",
    ("events",): "name",
    ("incidents",): "name",
    ("snooze",): "args",
    ("maintenance",): "name",
    ("rules",): "name",
}
"""The arguments that take an existing host's name, by command path and argparse dest."""

FILE_ARGUMENTS: Mapping[tuple[str, ...], tuple[str, ...]] = {
    ("host", "add"): ("key_file",),
    ("host", "edit"): ("key_file",),
    ("db", "backup"): ("path",),
    ("service",): ("tls_cert", "tls_key"),
    ("notify", "email"): ("ca_file",),
    ("secrets", "reseal"): ("new_passphrase_file",),
}
"""The arguments that name a file on this computer."""

INSTALL_HINT = """\
Load it in the running shell:
  bash:  source <(vpshealth completion bash)
  zsh:   eval "$(vpshealth completion zsh)"   (after compinit)
  fish:  vpshealth completion fish | source
or keep it: ~/.local/share/bash-completion/completions/vpshealth,
a file _vpshealth in a folder of $fpath, ~/.config/fish/completions/vpshealth.fish.
The .deb package installs all three."""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    completion = commands.add_parser(
        "completion",
        help="print the shell completion script for bash, zsh or fish",
        description="Print a script that completes commands, options and host names as you "
        "type them.",
        epilog=INSTALL_HINT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    completion.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")
    completion.set_defaults(standalone=print_completion)


def print_completion(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    print(completion_script(parser, args.shell), end="")
    return EXIT_OK


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    mark_completers(parser)
    return shtab.complete(parser, shell)


def mark_completers(parser: argparse.ArgumentParser) -> None:
    """Tell shtab which arguments are host names and which are files."""
    for path, dest in HOST_ARGUMENTS.items():
        _argument(parser, path, dest).complete = HOST_NAMES  # type: ignore[attr-defined]
    for path, dests in FILE_ARGUMENTS.items():
        for dest in dests:
            _argument(parser, path, dest).complete = shtab.FILE  # type: ignore[attr-defined]


def subcommand(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> argparse.ArgumentParser:
    for name in path:
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = subparsers.choices[name]
    return parser


def _argument(parser: argparse.ArgumentParser, path: tuple[str, ...], dest: str) -> argparse.Action:
    found = [a for a in subcommand(parser, path)._actions if a.dest == dest]
    if not found:
        raise LookupError(f"`vpshealth {' '.join(path)}` has no argument {dest!r}")
    return found[0]

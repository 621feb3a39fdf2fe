"""Asking the person at the terminal, only when there is one."""

from __future__ import annotations

import getpass
import sys


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def confirm(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in {"y", "yes"}


def ask_secret(prompt: str) -> str:
    return getpass.getpass(prompt, stream=sys.stderr)

"""Starting the desktop app at login: an XDG autostart entry (Linux), a launchd agent that
runs once at login (macOS), a value under the Run key (Windows)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from vpshealth.startup.file_writes import write_atomically
from vpshealth.startup.unit_files import (
    LAUNCHD_DESKTOP_LABEL,
    LEGACY_LAUNCHD_DESKTOP_LABEL,
    LEGACY_XDG_AUTOSTART_NAME,
    WINDOWS_RUN_VALUE,
    XDG_AUTOSTART_NAME,
    launchd_plist,
    windows_command_line,
    xdg_autostart_entry,
)

if sys.platform == "win32":
    import winreg

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


class LoginItem(Protocol):
    def enable(self) -> None: ...

    def disable(self) -> None: ...

    def enabled(self) -> bool: ...

    @property
    def where(self) -> str: ...


class FileLoginItem:
    """A login entry that is one file: present means enabled. ``legacy`` is where an older
    release wrote it: it counts as enabled, and enabling or disabling removes it."""

    def __init__(self, path: Path, content: bytes, legacy: Path | None = None) -> None:
        self.path = path
        self._content = content
        self._legacy = legacy

    @property
    def where(self) -> str:
        if not self.path.exists() and self._legacy is not None and self._legacy.exists():
            return str(self._legacy)
        return str(self.path)

    def enable(self) -> None:
        write_atomically(self.path, self._content)
        self._remove_legacy()

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)
        self._remove_legacy()

    def enabled(self) -> bool:
        return self.path.exists() or (self._legacy is not None and self._legacy.exists())

    def _remove_legacy(self) -> None:
        if self._legacy is not None:
            self._legacy.unlink(missing_ok=True)


class WindowsRunKey:  # pragma: no cover - exercised on Windows only
    def __init__(self, line: str) -> None:
        self._line = line

    @property
    def where(self) -> str:
        return rf"HKEY_CURRENT_USER\{RUN_KEY}\{WINDOWS_RUN_VALUE}"

    def enable(self) -> None:
        if sys.platform == "win32":
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as k:
                winreg.SetValueEx(k, WINDOWS_RUN_VALUE, 0, winreg.REG_SZ, self._line)

    def disable(self) -> None:
        if sys.platform == "win32":
            with (
                winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as k,
                contextlib.suppress(FileNotFoundError),
            ):
                winreg.DeleteValue(k, WINDOWS_RUN_VALUE)

    def enabled(self) -> bool:
        if sys.platform == "win32":
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as k:
                try:
                    winreg.QueryValueEx(k, WINDOWS_RUN_VALUE)
                except FileNotFoundError:
                    return False
                return True
        return False


def login_item_for_this_os(command: Sequence[str], environment: Mapping[str, str]) -> LoginItem:
    if sys.platform == "darwin":
        agents = Path.home() / "Library" / "LaunchAgents"
        plist = launchd_plist(LAUNCHD_DESKTOP_LABEL, command, environment, keep_alive=False)
        legacy = agents / f"{LEGACY_LAUNCHD_DESKTOP_LABEL}.plist"
        return FileLoginItem(agents / f"{LAUNCHD_DESKTOP_LABEL}.plist", plist, legacy)
    if sys.platform == "win32":
        return WindowsRunKey(windows_command_line(command, environment))
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    entry = xdg_autostart_entry(command, environment).encode()
    autostart = config / "autostart"
    return FileLoginItem(
        autostart / XDG_AUTOSTART_NAME, entry, autostart / LEGACY_XDG_AUTOSTART_NAME
    )

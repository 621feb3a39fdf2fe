"""The files that make the OS start VPS Health: a systemd user unit, launchd agents, an XDG
autostart entry, and the Windows command lines. Pure text, so each is tested on every OS."""

from __future__ import annotations

import plistlib
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from vpshealth import APP_ID

SERVICE_NAME = "vpshealth"
SYSTEMD_UNIT_NAME = f"{SERVICE_NAME}.service"
LAUNCHD_SERVICE_LABEL = f"{APP_ID}.service"
LAUNCHD_DESKTOP_LABEL = APP_ID
XDG_AUTOSTART_NAME = f"{APP_ID}.desktop"
LEGACY_LAUNCHD_SERVICE_LABEL = "io.vpshealth.service"
LEGACY_LAUNCHD_DESKTOP_LABEL = "io.vpshealth.desktop"
LEGACY_XDG_AUTOSTART_NAME = "vpshealth.desktop"
"""The names 0.1 used: still recognised, and replaced when the entry is written again."""
WINDOWS_TASK_NAME = "VPS Health service"
WINDOWS_RUN_VALUE = "VPS Health"


def _systemd_quote(arg: str, *, expands_dollar: bool = False) -> str:
    """``%`` starts a specifier everywhere; ``$`` a variable only in ExecStart arguments (not
    in the executable's path, not in Environment=)."""
    escaped = arg.replace("%", "%%")
    if expands_dollar:
        escaped = escaped.replace("$", "$$")
    if escaped and not any(c in escaped for c in " \t\"'\\;"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_unit(command: Sequence[str], environment: Mapping[str, str]) -> str:
    lines = [
        "[Unit]",
        "Description=VPS Health background checks",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart="
        + " ".join(
            [_systemd_quote(command[0])]
            + [_systemd_quote(arg, expands_dollar=True) for arg in command[1:]]
        ),
    ]
    lines += [f"Environment={_systemd_quote(f'{k}={v}')}" for k, v in sorted(environment.items())]
    lines += [
        "Restart=on-failure",
        "RestartSec=10",
        "TimeoutStopSec=30",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


def launchd_plist(
    label: str,
    command: Sequence[str],
    environment: Mapping[str, str],
    *,
    keep_alive: bool,
    log_path: Path | None = None,
) -> bytes:
    plist: dict[str, object] = {
        "Label": label,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "ProcessType": "Background" if keep_alive else "Interactive",
    }
    if keep_alive:
        plist["KeepAlive"] = {"SuccessfulExit": False}
        plist["ThrottleInterval"] = 10
    if environment:
        plist["EnvironmentVariables"] = dict(sorted(environment.items()))
    if log_path is not None:
        plist["StandardErrorPath"] = str(log_path)
    return plistlib.dumps(plist, sort_keys=False)


def xdg_autostart_entry(command: Sequence[str], environment: Mapping[str, str]) -> str:
    exec_line = " ".join(_desktop_quote(arg) for arg in command)
    if environment:
        assignments = " ".join(_desktop_quote(f"{k}={v}") for k, v in sorted(environment.items()))
        exec_line = f"env {assignments} {exec_line}"
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=VPS Health",
            "Comment=Watch your servers from the system tray",
            f"Exec={exec_line}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=System;Monitor;",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def _desktop_quote(arg: str) -> str:
    """Quoting of the Desktop Entry spec: reserved characters need double quotes, and inside
    them ``"`` ``` ` ``` ``$`` ``\\`` are escaped; ``%`` is doubled."""
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def windows_command_line(command: Sequence[str], environment: Mapping[str, str]) -> str:
    """One command line for a scheduled task or a Run-key value. Windows has no per-entry
    environment there, so the data folder is passed through ``cmd /c set``."""
    line = subprocess.list2cmdline(list(command))
    if not environment:
        return line
    sets = " && ".join(f'set "{k}={v}"' for k, v in sorted(environment.items()))
    return f"cmd /c {sets} && {line}"

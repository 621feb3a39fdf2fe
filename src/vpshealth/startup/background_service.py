"""Installing the background service: a systemd user unit (Linux), a launchd agent (macOS) or
a scheduled task that starts at logon (Windows)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vpshealth.errors import VpsHealthError
from vpshealth.startup.file_writes import write_atomically
from vpshealth.startup.runner import Runner, run_tool
from vpshealth.startup.unit_files import (
    LAUNCHD_SERVICE_LABEL,
    LEGACY_LAUNCHD_SERVICE_LABEL,
    SYSTEMD_UNIT_NAME,
    WINDOWS_TASK_NAME,
    launchd_plist,
    systemd_unit,
    windows_command_line,
)


class ServiceSetupError(VpsHealthError):
    """The OS refused to register or start the service; the message says what to do."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    installed: bool
    running: bool | None
    """None when the OS's service manager could not be asked."""
    detail: str
    definition: str


class BackgroundService(Protocol):
    def install(self) -> str: ...

    def uninstall(self) -> str: ...

    def status(self) -> ServiceStatus: ...


class SystemdUserService:
    def __init__(
        self,
        unit_dir: Path,
        command: Sequence[str],
        environment: Mapping[str, str],
        run: Runner = run_tool,
    ) -> None:
        self.unit_path = unit_dir / SYSTEMD_UNIT_NAME
        self._command = command
        self._environment = environment
        self._run = run

    def _systemctl(self, *args: str) -> tuple[bool, str]:
        ran = self._run(["systemctl", "--user", *args])
        return ran.ok, ran.why

    def install(self) -> str:
        write_atomically(self.unit_path, systemd_unit(self._command, self._environment).encode())
        for step in (("daemon-reload",), ("enable", "--now", SYSTEMD_UNIT_NAME)):
            ok, why = self._systemctl(*step)
            if not ok:
                raise ServiceSetupError(
                    f"Wrote {self.unit_path}, but `systemctl --user {' '.join(step)}` failed "
                    f"({why}). In a desktop session run `systemctl --user enable --now "
                    f"{SYSTEMD_UNIT_NAME}`; on a server without a login session first run "
                    "`loginctl enable-linger $USER`."
                )
        return f"Installed and started the systemd user service {SYSTEMD_UNIT_NAME}."

    def uninstall(self) -> str:
        if not self.unit_path.exists():
            return "The background service is not installed."
        self._systemctl("disable", "--now", SYSTEMD_UNIT_NAME)
        self.unit_path.unlink()
        self._systemctl("daemon-reload")
        return f"Stopped the background service and removed {self.unit_path}."

    def status(self) -> ServiceStatus:
        installed = self.unit_path.exists()
        ran = self._run(["systemctl", "--user", "is-active", SYSTEMD_UNIT_NAME])
        state = ran.out.strip()
        if state in ("active", "activating", "reloading"):
            running: bool | None = True
        elif state in ("inactive", "failed", "deactivating"):
            running = False
        else:
            running = None
            state = f"systemctl --user cannot tell ({ran.why})"
        return ServiceStatus(installed, running, state, str(self.unit_path))


class LaunchdAgent:
    def __init__(
        self,
        agents_dir: Path,
        command: Sequence[str],
        environment: Mapping[str, str],
        log_path: Path,
        run: Runner = run_tool,
    ) -> None:
        self.plist_path = agents_dir / f"{LAUNCHD_SERVICE_LABEL}.plist"
        self.legacy_plist_path = agents_dir / f"{LEGACY_LAUNCHD_SERVICE_LABEL}.plist"
        self._command = command
        self._environment = environment
        self._log_path = log_path
        self._run = run
        self._domain = f"gui/{os.getuid()}" if hasattr(os, "getuid") else "gui/0"

    def install(self) -> str:
        data = launchd_plist(
            LAUNCHD_SERVICE_LABEL,
            self._command,
            self._environment,
            keep_alive=True,
            log_path=self._log_path,
        )
        write_atomically(self.plist_path, data)
        self._remove_legacy()
        self._run(["launchctl", "bootout", f"{self._domain}/{LAUNCHD_SERVICE_LABEL}"])
        ran = self._run(["launchctl", "bootstrap", self._domain, str(self.plist_path)])
        if not ran.ok:
            raise ServiceSetupError(
                f"Wrote {self.plist_path}, but launchctl could not load it ({ran.why}). It "
                "starts at your next login, or run "
                f"`launchctl bootstrap {self._domain} {self.plist_path}`."
            )
        return f"Installed and started the launchd agent {LAUNCHD_SERVICE_LABEL}."

    def _remove_legacy(self) -> None:
        """The agent an older release installed under its former label."""
        if self.legacy_plist_path.exists():
            self._run(["launchctl", "bootout", f"{self._domain}/{LEGACY_LAUNCHD_SERVICE_LABEL}"])
            self.legacy_plist_path.unlink()

    def uninstall(self) -> str:
        if not self.plist_path.exists():
            if not self.legacy_plist_path.exists():
                return "The background service is not installed."
            self._remove_legacy()
            return f"Stopped the background service and removed {self.legacy_plist_path}."
        self._run(["launchctl", "bootout", f"{self._domain}/{LAUNCHD_SERVICE_LABEL}"])
        self.plist_path.unlink()
        self._remove_legacy()
        return f"Stopped the background service and removed {self.plist_path}."

    def status(self) -> ServiceStatus:
        label, path = LAUNCHD_SERVICE_LABEL, self.plist_path
        if not path.exists() and self.legacy_plist_path.exists():
            label, path = LEGACY_LAUNCHD_SERVICE_LABEL, self.legacy_plist_path
        ran = self._run(["launchctl", "print", f"{self._domain}/{label}"])
        running = ran.ok and "state = running" in ran.out
        detail = "running" if running else ("loaded, not running" if ran.ok else "not loaded")
        return ServiceStatus(path.exists(), running, detail, str(path))


class WindowsLogonTask:
    def __init__(
        self, command: Sequence[str], environment: Mapping[str, str], run: Runner = run_tool
    ) -> None:
        self._line = windows_command_line(command, environment)
        self._run = run

    def create_command(self) -> list[str]:
        return [
            "schtasks", "/Create", "/F", "/SC", "ONLOGON", "/RL", "LIMITED",
            "/TN", WINDOWS_TASK_NAME, "/TR", self._line,
        ]  # fmt: skip

    def install(self) -> str:
        ran = self._run(self.create_command())
        if not ran.ok:
            raise ServiceSetupError(
                f"Windows did not create the scheduled task '{WINDOWS_TASK_NAME}' ({ran.why})."
            )
        self._run(["schtasks", "/Run", "/TN", WINDOWS_TASK_NAME])
        return f"Installed and started the scheduled task '{WINDOWS_TASK_NAME}' (runs at logon)."

    def uninstall(self) -> str:
        if not self._run(["schtasks", "/Query", "/TN", WINDOWS_TASK_NAME]).ok:
            return "The background service is not installed."
        self._run(["schtasks", "/End", "/TN", WINDOWS_TASK_NAME])
        ran = self._run(["schtasks", "/Delete", "/F", "/TN", WINDOWS_TASK_NAME])
        if not ran.ok:
            raise ServiceSetupError(f"Windows did not delete the task ({ran.why}).")
        return f"Stopped and removed the scheduled task '{WINDOWS_TASK_NAME}'."

    def status(self) -> ServiceStatus:
        ran = self._run(["schtasks", "/Query", "/TN", WINDOWS_TASK_NAME, "/FO", "LIST"])
        if not ran.ok:
            return ServiceStatus(False, False, "not installed", WINDOWS_TASK_NAME)
        status = next(
            (
                line.split(":", 1)[1].strip()
                for line in ran.out.splitlines()
                if line.strip().lower().startswith("status:")
            ),
            "unknown",
        )
        return ServiceStatus(True, status.lower() == "running", status, WINDOWS_TASK_NAME)


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def background_service_for_this_os(
    command: Sequence[str], environment: Mapping[str, str], log_path: Path
) -> BackgroundService:
    if sys.platform == "darwin":
        agents = Path.home() / "Library" / "LaunchAgents"
        return LaunchdAgent(agents, command, environment, log_path)
    if sys.platform == "win32":
        return WindowsLogonTask(command, environment)
    return SystemdUserService(_config_home() / "systemd" / "user", command, environment)

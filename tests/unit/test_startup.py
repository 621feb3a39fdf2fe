"""Service and login entries: their content on every OS, systemd's own verdict on the unit,
and the commands each OS's tool is given."""

from __future__ import annotations

import configparser
import os
import plistlib
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool
from vpshealth.cli.main import main
from vpshealth.engine.lock import EngineLock
from vpshealth.startup.background_service import (
    LaunchdAgent,
    ServiceSetupError,
    SystemdUserService,
    WindowsLogonTask,
)
from vpshealth.startup.launch import base_command, passed_environment
from vpshealth.startup.runner import Ran
from vpshealth.startup.unit_files import (
    launchd_plist,
    systemd_unit,
    windows_command_line,
    xdg_autostart_entry,
)


class Recorder:
    def __init__(self, answers: dict[str, Ran] | None = None) -> None:
        self.calls: list[list[str]] = []
        self._answers = answers or {}

    def __call__(self, argv: Sequence[str]) -> Ran:
        self.calls.append(list(argv))
        for word, answer in self._answers.items():
            if word in argv:
                return answer
        return Ran(0, "", "")


def test_the_command_runs_this_interpreter_and_passes_the_data_folder() -> None:
    assert base_command() == [sys.executable, "-m", "vpshealth"]
    assert passed_environment({"VPSHEALTH_HOME": "/data/vh", "HOME": "/root"}) == {
        "VPSHEALTH_HOME": "/data/vh"
    }
    assert passed_environment({"VPSHEALTH_HOME": ""}) == {}


def _exec_start(unit: str) -> list[str]:
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    executable, *args = shlex.split(line.removeprefix("ExecStart=").replace("%%", "%"))
    return [executable, *(arg.replace("$$", "$") for arg in args)]


def test_systemd_unit_content() -> None:
    unit = systemd_unit([sys.executable, "-m", "vpshealth", "service"], {"VPSHEALTH_HOME": "/v h"})
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read_string(unit)
    assert parsed["Service"]["Restart"] == "on-failure"
    assert parsed["Service"]["Environment"] == '"VPSHEALTH_HOME=/v h"'
    assert parsed["Install"]["WantedBy"] == "default.target"
    assert parsed["Unit"]["After"] == "network-online.target"
    assert _exec_start(unit) == [sys.executable, "-m", "vpshealth", "service"]


def test_systemd_accepts_the_unit_even_with_awkward_paths(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", package="systemd")
    folder = tmp_path / "VPS Health 100%"
    folder.mkdir()
    python = folder / "py$thon"
    python.symlink_to(sys.executable)
    unit_path = tmp_path / "vpshealth.service"
    unit = systemd_unit([str(python), "-m", "vpshealth", "service"], {"VPSHEALTH_HOME": "/a $b"})
    unit_path.write_text(unit)
    assert _exec_start(unit)[0] == str(python)
    done = subprocess.run(
        [analyze, "verify", str(unit_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    complaints = [line for line in done.stderr.splitlines() if "vpshealth.service" in line]
    assert done.returncode == 0, done.stderr
    assert complaints == []


def test_launchd_plists() -> None:
    service = plistlib.loads(
        launchd_plist(
            "io.vpshealth.service", ["/Applications/VPS Health.app/Contents/MacOS/vpshealth",
            "service"], {"VPSHEALTH_HOME": "/v"}, keep_alive=True, log_path=Path("/l/s.err"),
        )
    )  # fmt: skip
    assert service["ProgramArguments"][0].endswith("MacOS/vpshealth")
    assert service["KeepAlive"] == {"SuccessfulExit": False}
    assert service["RunAtLoad"] is True
    assert service["EnvironmentVariables"] == {"VPSHEALTH_HOME": "/v"}
    assert service["StandardErrorPath"] == "/l/s.err"
    desktop = plistlib.loads(launchd_plist("io.vpshealth.desktop", ["/x"], {}, keep_alive=False))
    assert "KeepAlive" not in desktop
    assert desktop["ProcessType"] == "Interactive"


def test_xdg_autostart_entry_quotes_per_the_desktop_entry_spec() -> None:
    entry = xdg_autostart_entry(["/opt/VPS Health/vpshealth"], {"VPSHEALTH_HOME": "/h 1"})
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read_string(entry)
    section = parsed["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"] == 'env "VPSHEALTH_HOME=/h 1" "/opt/VPS Health/vpshealth"'
    assert section["Terminal"] == "false"


def test_windows_command_lines() -> None:
    plain = windows_command_line([r"C:\Program Files\VPS Health\vpshealth.exe", "service"], {})
    assert plain == r'"C:\Program Files\VPS Health\vpshealth.exe" service'
    with_home = windows_command_line([r"C:\vh\vpshealth.exe"], {"VPSHEALTH_HOME": r"D:\vh"})
    assert with_home == r'cmd /c set "VPSHEALTH_HOME=D:\vh" && C:\vh\vpshealth.exe'


def test_systemd_install_without_a_user_manager_says_what_to_do(tmp_path: Path) -> None:
    """The real systemctl: this machine has no systemd user manager, as on many servers."""
    service = SystemdUserService(tmp_path / "units", ["/usr/bin/true"], {})
    with pytest.raises(ServiceSetupError) as failed:
        service.install()
    assert failed.value.exit_code == 1
    message = str(failed.value)
    assert "systemctl --user enable --now vpshealth.service" in message
    assert "loginctl enable-linger" in message
    assert service.unit_path.read_text() == systemd_unit(["/usr/bin/true"], {}), "written whole"
    status = service.status()
    assert status.installed
    assert status.running is None
    assert service.uninstall().startswith("Stopped the background service")
    assert not service.unit_path.exists()
    assert service.uninstall() == "The background service is not installed."


def test_systemd_commands(tmp_path: Path) -> None:
    tool = Recorder({"is-active": Ran(0, "active\n", "")})
    service = SystemdUserService(tmp_path, ["/x"], {}, run=tool)
    service.install()
    assert tool.calls == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "vpshealth.service"],
    ]
    assert service.status().running is True
    service.uninstall()
    assert tool.calls[-2:] == [
        ["systemctl", "--user", "disable", "--now", "vpshealth.service"],
        ["systemctl", "--user", "daemon-reload"],
    ]


def test_launchd_commands(tmp_path: Path) -> None:
    tool = Recorder({"print": Ran(0, "state = running\n", "")})
    agent = LaunchdAgent(tmp_path, ["/x", "service"], {}, tmp_path / "err.log", run=tool)
    agent.install()
    domain = f"gui/{os.getuid()}"
    assert tool.calls == [
        ["launchctl", "bootout", f"{domain}/io.vpshealth.VPSHealth.service"],
        ["launchctl", "bootstrap", domain, str(agent.plist_path)],
    ]
    assert plistlib.loads(agent.plist_path.read_bytes())["ProgramArguments"] == ["/x", "service"]
    assert agent.status().running is True


def test_windows_task_commands_and_status() -> None:
    listing = "HostName: PC\nTaskName: \\VPS Health service\nStatus:   Running\n"
    tool = Recorder({"/Query": Ran(0, listing, "")})
    task = WindowsLogonTask([r"C:\vh\vpshealth.exe", "service"], {}, run=tool)
    task.install()
    assert tool.calls[0][:6] == ["schtasks", "/Create", "/F", "/SC", "ONLOGON", "/RL"]
    assert tool.calls[0][-1] == r"C:\vh\vpshealth.exe service"
    assert tool.calls[1] == ["schtasks", "/Run", "/TN", "VPS Health service"]
    status = task.status()
    assert (status.installed, status.running, status.detail) == (True, True, "Running")
    missing = WindowsLogonTask(["x"], {}, run=Recorder({"/Query": Ran(1, "", "ERROR: none")}))
    assert missing.status().installed is False
    assert missing.uninstall() == "The background service is not installed."


def test_engine_lock_holder(tmp_path: Path) -> None:
    lock = EngineLock(tmp_path / "engine.lock")
    assert lock.holder() is None
    with lock:
        assert EngineLock(tmp_path / "engine.lock").holder() == os.getpid()
    assert lock.holder() is None


@pytest.fixture
def run(cli_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))

    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.mark.skipif(sys.platform != "linux", reason="XDG autostart")
def test_autostart_on_off(run: Any, tmp_path: Path) -> None:
    entry = tmp_path / "xdg" / "autostart" / "io.vpshealth.VPSHealth.desktop"
    assert run("autostart", "status")[1].startswith("Start at login: off")
    code, out, _ = run("autostart", "on")
    assert code == 0
    assert str(entry) in out
    assert "vpshealth" in entry.read_text()
    assert run("autostart", "status")[1].startswith("Start at login: on")
    run("autostart", "off")
    assert not entry.exists()


def test_service_status_when_nothing_runs(run: Any) -> None:
    code, out, _ = run("service", "status")
    assert code == 1
    assert "Checks:             not running" in out
    assert "Last check:         never" in out


def test_login_entries_use_the_windowless_executable_on_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vpshealth.startup import launch  # noqa: PLC0415

    console = tmp_path / "vpshealth.exe"
    quiet = tmp_path / "vpshealthw.exe"
    console.touch()
    monkeypatch.setattr(launch.sys, "executable", str(console))
    monkeypatch.setattr(launch.sys, "frozen", True, raising=False)
    monkeypatch.setattr(launch.sys, "platform", "win32")
    assert launch.service_command() == [str(console), "service"], "no windowless build: as is"
    quiet.touch()
    assert launch.service_command() == [str(quiet), "service"]
    assert launch.desktop_command() == [str(quiet)]
    assert launch.base_command() == [str(console)], "the command line keeps its console"

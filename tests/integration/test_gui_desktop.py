"""End to end: the desktop app on a real X server with a real system tray (trayer) and a real
notification daemon (dunst), watching a host on the real test sshd."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.support.cli import RunCli
from tests.integration.support.desktop import Desktop
from tests.integration.support.procs import log_tail, stop_process
from tests.integration.support.service import wait_for
from tests.integration.support.sshd import SshServer
from vpshealth.engine.lock import EngineLock

HOST = "e2e-web"


def _app_env(cli_env: dict[str, str], desktop: Desktop) -> dict[str, str]:
    env = {**cli_env, **desktop.env}
    env.pop("QT_QPA_PLATFORM", None)  # the GUI tests set offscreen; this run is on the X server
    return env


def test_desktop_app_shows_the_tray_and_notifies_through_dunst(
    desktop: Desktop,
    ssh_server: SshServer,
    cli_env: dict[str, str],
    vpshealth_home: Path,
    run_cli: RunCli,
    tmp_path: Path,
) -> None:
    added = run_cli(
        "host", "add", HOST,
        "--address", ssh_server.host,
        "--port", str(ssh_server.port),
        "--user", ssh_server.user,
        "--key-file", str(ssh_server.client_key_path),
        "--trust-host-key",
        "--interval", "5",
        env=cli_env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    env = _app_env(cli_env, desktop)
    log_file = vpshealth_home / "logs" / "app.log"
    output = tmp_path / "app-output.log"
    with open(output, "wb") as out:
        app = subprocess.Popen(
            [sys.executable, "-m", "vpshealth"], env=env, stdout=out, stderr=subprocess.STDOUT
        )

    def log() -> str:
        if app.poll() is not None:
            raise AssertionError(f"the app exited with {app.returncode}:\n{log_tail(output, 60)}")
        return log_file.read_text(errors="replace") if log_file.exists() else ""

    try:
        wait_for("the app to start", lambda: "System tray available:" in log(), 60)
        assert "System tray available: True" in log(), log_tail(output, 60)
        wait_for("the app to run the checks", lambda: "Service started" in log(), 60)
        started = log().index("Service started")
        wait_for(
            f"the app to connect to {HOST}",
            lambda: f"Connected to {HOST}" in log()[started:],
            60,
        )

        second = subprocess.run(
            [sys.executable, "-m", "vpshealth"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout

        ssh_server.kill()
        wait_for(
            "a desktop notification naming the host at org.freedesktop.Notifications",
            lambda: f'string "{HOST}: ' in desktop.notifications_seen(),
            120,
        )
        seen = desktop.notifications_seen()
        assert "member=Notify" in seen
        call = seen[seen.index("member=Notify") :]
        # dbus-monitor prints each hint as: string "desktop-entry" / variant string "..."
        assert re.search(r'string "desktop-entry"\s+variant\s+string "io\.vpshealth\.VPSHealth"',
                         call), call[:2000]  # fmt: skip
        app_icon = call.splitlines()[3].strip()  # app_name, replaces_id, then app_icon
        assert re.fullmatch(r'string "(io\.vpshealth\.VPSHealth|file://\S+\.svg)"', app_icon)
        # dunst keeps no desktop-entry (dbus-monitor above shows it), but the icon it found
        shown = json.loads(desktop.dunst_history())["data"][0]
        icons = {n["icon_path"]["data"] for n in shown if n["appname"]["data"] == "VPS Health"}
        assert icons, shown
        assert all(Path(icon).name.startswith("io.vpshealth.VPSHealth.") for icon in icons)
        assert all(Path(icon).is_file() for icon in icons), icons
        assert f"Desktop notification: {HOST}: " in log()
        desktop.screenshot(tmp_path / "screen.png")
        assert (tmp_path / "screen.png").stat().st_size > 10_000
    finally:
        code = stop_process(app, sig=signal.SIGTERM, timeout=30, tree=False)
    assert code == 0, log_tail(output, 60)
    lock = EngineLock(vpshealth_home / "data" / "engine.lock")
    lock.acquire()  # released on quit
    lock.release()

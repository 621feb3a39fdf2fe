"""A real X desktop for the end-to-end test: Xvfb, a system tray (trayer), a notification
daemon (dunst) on the given private session bus, and dbus-monitor recording every
org.freedesktop.Notifications call. Everything is started here and stopped by PID.

See /work/shared/TEST-INFRA.md ("A real system tray and notification daemon")."""

from __future__ import annotations

import os
import select
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

from tests.integration.support.procs import log_tail, stop_process, wait_until

XVFB = "Xvfb"
TRAYER = "trayer"
DUNST = "dunst"
DUNSTCTL = "dunstctl"
DBUS_MONITOR = "dbus-monitor"
IMPORT = "import"
NOTIFICATIONS_BUS_NAME = "org.freedesktop.Notifications"


class DesktopStartError(RuntimeError):
    pass


def _start_xvfb(workdir: Path, env: Mapping[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """Xvfb on a display number it picks itself (``-displayfd``): two test processes (xdist
    workers, other checkouts) can never race for the same number. Returns it when ready."""
    read_end, write_end = os.pipe()
    try:
        with open(workdir / "xvfb.log", "ab") as log:
            proc = subprocess.Popen(
                [XVFB, "-displayfd", str(write_end), "-screen", "0", "1280x800x24",
                 "-nolisten", "tcp"],
                env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                pass_fds=(write_end,),
            )  # fmt: skip
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], 15)
        answer = pipe.readline() if ready else b""
    if not answer.strip().isdigit():
        stop_process(proc, tree=False, timeout=5)
        raise DesktopStartError(f"Xvfb did not start:\n{log_tail(workdir / 'xvfb.log')}")
    return proc, int(answer)


@dataclass
class Desktop:
    display: str
    bus_address: str
    workdir: Path
    monitor_log: Path
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    @property
    def env(self) -> dict[str, str]:
        """Variables that put a child on this desktop and bus."""
        return {"DISPLAY": self.display, "DBUS_SESSION_BUS_ADDRESS": self.bus_address}

    @classmethod
    def start(cls, workdir: Path, base_env: Mapping[str, str]) -> Desktop:
        """``base_env`` must carry the private DBUS_SESSION_BUS_ADDRESS to use."""
        env = {k: v for k, v in base_env.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
        xvfb, number = _start_xvfb(workdir, env)
        env["DISPLAY"] = f":{number}"
        desktop = cls(
            f":{number}", env["DBUS_SESSION_BUS_ADDRESS"], workdir, workdir / "dbus-monitor.log"
        )
        desktop._procs.append(xvfb)
        try:
            desktop._spawn(
                [DBUS_MONITOR, "--session", f"interface='{NOTIFICATIONS_BUS_NAME}'"],
                env,
                "dbus-monitor",
                stdout=desktop.monitor_log,
            )
            desktop._spawn(
                [
                    TRAYER,
                    "--edge",
                    "top",
                    "--align",
                    "right",
                    "--widthtype",
                    "pixel",
                    "--width",
                    "200",
                    "--height",
                    "24",
                    "--transparent",
                    "false",
                ],
                env,
                "trayer",
            )
            desktop._spawn([DUNST], env, "dunst")
            if not wait_until(desktop._notifications_owned, timeout=15, interval=0.1):
                dunst_log = log_tail(workdir / "dunst.log")
                raise DesktopStartError(
                    f"dunst did not take {NOTIFICATIONS_BUS_NAME}:\n{dunst_log}"
                )
        except BaseException:
            desktop.close()
            raise
        return desktop

    def _spawn(
        self, argv: list[str], env: Mapping[str, str], name: str, stdout: Path | None = None
    ) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        out = open(stdout, "ab") if stdout else log  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=log
            )
        finally:
            log.close()
            if out is not log:
                out.close()
        self._procs.append(proc)

    def _notifications_owned(self) -> bool:
        with open_dbus_connection(bus=self.bus_address) as conn:
            reply = conn.send_and_get_reply(
                message_bus.NameHasOwner(NOTIFICATIONS_BUS_NAME), timeout=5
            )
        return bool(reply.body[0])

    def notifications_seen(self) -> str:
        """What dbus-monitor recorded so far (each Notify call with its summary and body)."""
        try:
            return self.monitor_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def dunst_history(self) -> str:
        """dunst's own record of the notifications it showed (``dunstctl history``, JSON with
        each one's app name, icon path and urgency). Closes those on screen first: dunst keeps
        a notification in its history once it is closed."""
        env = {"PATH": "/usr/bin:/bin", "DBUS_SESSION_BUS_ADDRESS": self.bus_address}
        for command in ("close-all", "history"):
            done = subprocess.run(
                [DUNSTCTL, command], env=env, capture_output=True, text=True, timeout=30,
                check=True,
            )  # fmt: skip
        return done.stdout

    def screenshot(self, path: Path) -> None:
        subprocess.run(
            [IMPORT, "-display", self.display, "-window", "root", str(path)],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def close(self) -> None:
        for proc in reversed(self._procs):
            stop_process(proc, tree=False, timeout=5)
        self._procs.clear()

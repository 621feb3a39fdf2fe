"""One application ID everywhere the OS or a desktop looks for the app: a mismatch gives the
window a generic icon on Wayland, or makes an upgrade install a second app."""

from __future__ import annotations

import configparser
import plistlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vpshealth import APP_ID
from vpshealth.startup.background_service import LaunchdAgent
from vpshealth.startup.login_item import FileLoginItem, login_item_for_this_os
from vpshealth.startup.runner import Ran
from vpshealth.startup.unit_files import (
    LAUNCHD_DESKTOP_LABEL,
    LAUNCHD_SERVICE_LABEL,
    XDG_AUTOSTART_NAME,
    xdg_autostart_entry,
)

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ICONS = PACKAGING / "icons" / "hicolor"


def _desktop_entry(text: str) -> configparser.SectionProxy:
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read_string(text)
    return parsed["Desktop Entry"]


def test_the_id_is_reverse_dns_and_names_the_desktop_file() -> None:
    assert APP_ID == "io.vpshealth.VPSHealth"
    desktop_files = sorted(p.name for p in (PACKAGING / "linux").glob("*.desktop"))
    assert desktop_files == [f"{APP_ID}.desktop"]
    entry = _desktop_entry((PACKAGING / "linux" / f"{APP_ID}.desktop").read_text())
    assert entry["Icon"] == APP_ID


def test_the_qt_app_announces_the_desktop_file_name() -> None:
    source = (ROOT / "src" / "vpshealth" / "gui" / "app.py").read_text()
    assert re.findall(r"setDesktopFileName\((\w+)\)", source) == ["APP_ID"]
    assert "from vpshealth import APP_ID" in source


def test_appstream_names_the_same_id_and_desktop_file() -> None:
    root = ET.parse(PACKAGING / "linux" / f"{APP_ID}.metainfo.xml").getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable[@type='desktop-id']") == f"{APP_ID}.desktop"


def test_icons_carry_the_id_at_every_size() -> None:
    sizes = sorted(p.name for p in ICONS.iterdir())
    assert "scalable" in sizes
    for size in sizes:
        names = sorted(p.name for p in (ICONS / size / "apps").iterdir())
        suffix = ".svg" if size == "scalable" else ".png"
        assert names == [APP_ID + suffix], size
    packaged = ROOT / "src" / "vpshealth" / "resources" / "icons" / f"{APP_ID}.svg"
    scalable = ICONS / "scalable" / "apps" / f"{APP_ID}.svg"
    assert packaged.read_bytes() == scalable.read_bytes(), "run scripts/make_icons.py"


def test_macos_bundle_and_launchd_labels() -> None:
    spec = (PACKAGING / "vpshealth.spec").read_text()
    assert re.findall(r'bundle_identifier="([^"]+)"', spec) == [APP_ID]
    assert LAUNCHD_DESKTOP_LABEL == APP_ID
    assert f"{APP_ID}.service" == LAUNCHD_SERVICE_LABEL
    icns = (PACKAGING / "macos" / "make-icns.sh").read_text()
    assert f"apps/{APP_ID}.png" in icns


def test_windows_shortcuts_carry_the_id_as_their_app_user_model_id() -> None:
    iss = (PACKAGING / "windows" / "vpshealth.iss").read_text()
    shortcuts = [
        line for line in iss.split("[Icons]")[1].split("\n[")[0].splitlines() if line.strip()
    ]
    assert shortcuts
    for line in shortcuts:
        assert f'AppUserModelID: "{APP_ID}"' in line


def test_xdg_autostart_entry_is_named_and_drawn_by_the_id() -> None:
    assert f"{APP_ID}.desktop" == XDG_AUTOSTART_NAME
    assert _desktop_entry(xdg_autostart_entry(["/x"], {}))["Icon"] == APP_ID


def test_the_linux_bundle_installs_the_desktop_file_metainfo_and_icons() -> None:
    build = (ROOT / "scripts" / "build-linux").read_text()
    install = (PACKAGING / "linux" / "install.sh").read_text()
    for name in (f"{APP_ID}.desktop", f"{APP_ID}.metainfo.xml"):
        assert name in build
        assert name in install
    assert "packaging/icons/hicolor" in build
    assert "icons/hicolor" in install


@pytest.mark.skipif(not hasattr(__import__("os"), "getuid"), reason="launchd commands on POSIX")
def test_a_launchd_service_of_the_former_label_is_replaced(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(argv: list[str]) -> Ran:
        calls.append(list(argv))
        return Ran(0, "state = running\n", "")

    legacy = tmp_path / "io.vpshealth.service.plist"
    legacy.write_bytes(plistlib.dumps({"Label": "io.vpshealth.service"}))
    agent = LaunchdAgent(tmp_path, ["/x", "service"], {}, tmp_path / "err.log", run=run)
    status = agent.status()
    assert status.installed, "an install of the former label still counts"
    assert status.definition == str(legacy)
    assert calls[-1][-1].endswith("/io.vpshealth.service")
    agent.install()
    assert not legacy.exists()
    assert agent.plist_path.name == f"{APP_ID}.service.plist"
    assert any(c[:2] == ["launchctl", "bootout"] and c[-1].endswith("/io.vpshealth.service")
               for c in calls)  # fmt: skip
    legacy.write_bytes(b"")
    agent.plist_path.unlink()
    assert agent.uninstall() == f"Stopped the background service and removed {legacy}."
    assert not legacy.exists()


def test_an_autostart_entry_of_the_former_name_counts_and_is_replaced(tmp_path: Path) -> None:
    legacy = tmp_path / "vpshealth.desktop"
    legacy.write_text("[Desktop Entry]\n")
    item = FileLoginItem(tmp_path / XDG_AUTOSTART_NAME, b"[Desktop Entry]\n", legacy)
    assert item.enabled()
    assert item.where == str(legacy)
    item.enable()
    assert item.where == str(item.path)
    assert not legacy.exists()
    assert item.path.exists()
    legacy.write_text("[Desktop Entry]\n")
    item.disable()
    assert not legacy.exists()
    assert not item.path.exists()
    assert not item.enabled()


def test_the_login_item_of_this_os_uses_the_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    where = login_item_for_this_os(["/x"], {}).where
    assert APP_ID in where or "VPS Health" in where  # the Run key's value name on Windows

"""The AppStream metainfo is complete and passes ``appstreamcli validate --pedantic``; its
screenshots are the repository's own files."""

from __future__ import annotations

import re
import struct
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import require_tool
from vpshealth import APP_ID
from vpshealth.startup.unit_files import xdg_autostart_entry

ROOT = Path(__file__).resolve().parents[2]
METAINFO = ROOT / "packaging" / "linux" / f"{APP_ID}.metainfo.xml"
SCREENSHOT_URL = "https://raw.githubusercontent.com/vpshealth/vpshealth/main/docs/screenshots/"
ACCEPTED_HINTS = {
    # the application ID is reverse DNS with the app's name capitalised, as the desktop file
    # and the Wayland app ID have it (GNOME's own apps do the same)
    ("cid-contains-uppercase-letter", APP_ID),
    # AppStream before 1.0 (Debian 12's 0.16) does not know 1.0's <developer>; the file also
    # has the older <developer_name>
    ("unknown-tag", "developer"),
}


def _component() -> ET.Element:
    return ET.parse(METAINFO).getroot()


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_appstreamcli_validates_the_metainfo_pedantically() -> None:
    tool = require_tool("appstreamcli", package="appstream")
    done = subprocess.run(
        [tool, "validate", "--pedantic", "--no-net", str(METAINFO)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    issues = re.findall(r"^([EWIP]): \S+ (\S+)(?: (.*))?$", done.stdout, re.MULTILINE)
    unexpected = [i for i in issues if (i[1], i[2]) not in ACCEPTED_HINTS]
    assert unexpected == [], report


def test_the_metainfo_names_urls_developer_release_and_what_it_provides() -> None:
    component = _component()
    assert component.get("type") == "desktop-application"
    urls = {u.get("type"): u.text for u in component.iter("url")}
    assert urls["homepage"] == "https://github.com/vpshealth/vpshealth"
    assert urls["bugtracker"] == "https://github.com/vpshealth/vpshealth/issues"
    developer = component.find("developer")
    assert developer is not None
    assert developer.get("id")
    assert developer.findtext("name") == component.findtext("developer_name")
    assert component.find("content_rating[@type='oars-1.1']") is not None
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    releases = [r.get("version") for r in component.iter("release")]
    assert releases[0] == project["version"], "the newest release first, as packaged"
    assert [b.text for b in component.iter("binary")] == list(project["scripts"])
    assert {c.text for c in component.iter("category")} >= {"System", "Monitor"}
    assert component.findtext("launchable[@type='desktop-id']") == f"{APP_ID}.desktop"


def test_every_screenshot_is_a_file_in_docs_with_a_caption_and_its_size() -> None:
    shots = list(_component().iter("screenshot"))
    assert len(shots) >= 4
    assert [s.get("type") for s in shots].count("default") == 1
    names = []
    for shot in shots:
        assert (shot.findtext("caption") or "").strip(), "every screenshot has a caption"
        image = shot.find("image")
        assert image is not None
        assert image.text is not None
        assert image.text.startswith(SCREENSHOT_URL), image.text
        name = image.text.removeprefix(SCREENSHOT_URL)
        names.append(name)
        local = ROOT / "docs" / "screenshots" / name
        assert local.is_file(), f"{local} is missing: run scripts/screenshots"
        assert _png_size(local) == (int(image.get("width", 0)), int(image.get("height", 0)))
    assert {"overview-dark.png", "host-detail-dark.png"} <= set(names)


def _desktop_file_validate(path: Path) -> None:
    tool = require_tool("desktop-file-validate", package="desktop-file-utils")
    done = subprocess.run(
        [tool, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    # its hints (a second main category, say) are printed with exit 0: any output fails
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_desktop_file_passes_desktop_file_validate() -> None:
    _desktop_file_validate(ROOT / "packaging" / "linux" / f"{APP_ID}.desktop")


def test_the_autostart_entry_passes_desktop_file_validate(tmp_path: Path) -> None:
    entry = tmp_path / f"{APP_ID}.desktop"
    entry.write_text(
        xdg_autostart_entry(
            ["/opt/VPS Health/vpshealth", "--minimized"], {"VPSHEALTH_HOME": "/home/a b/vh"}
        )
    )
    _desktop_file_validate(entry)

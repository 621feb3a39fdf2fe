"""VPS Health: agentless monitoring of Linux VPS fleets over SSH."""

from importlib.metadata import PackageNotFoundError, version

APP_ID = "io.vpshealth.VPSHealth"
"""The one application ID: the desktop file's name and the Wayland app ID, AppStream, the icon's
name, the macOS bundle and launchd labels, the notifications' desktop-entry hint."""

try:
    __version__ = version("vpshealth")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

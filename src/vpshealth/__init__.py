"""VPS Health: agentless monitoring of Linux VPS fleets over SSH."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vpshealth")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

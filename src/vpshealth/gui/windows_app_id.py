"""The application ID on Windows: the taskbar groups the app's windows, pins and toast
notifications by it. Without it they count as python.exe's (from a checkout) or get no stable
identity across updates (the bundle)."""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)


def claim_windows_app_id(app_id: str, platform: str = sys.platform) -> bool:
    """Set this process's AppUserModelID on Windows, before any window exists; elsewhere do
    nothing. False when it was not set."""
    if platform != "win32":
        return False
    try:
        shell32 = getattr(ctypes, "windll").shell32  # noqa: B009 (typeshed has it on Windows only)
        result = shell32.SetCurrentProcessExplicitAppUserModelID(app_id)
    except (AttributeError, OSError) as exc:
        log.warning("Could not set the Windows application ID %s: %s", app_id, exc)
        return False
    if result != 0:  # an HRESULT: 0 is S_OK
        log.warning("Windows refused the application ID %s (HRESULT %#x)", app_id, result)
        return False
    return True

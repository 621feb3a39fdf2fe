"""Keys of the settings that more than one part of the program reads or writes."""

from __future__ import annotations

DESKTOP_MIN_SEVERITY_KEY = "desktop.min_severity"
"""The least severity shown on the desktop: ``warning`` or ``critical``."""

"""Times in a query: Unix seconds or ISO 8601 (UTC unless it says otherwise)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from vpshealth.api.errors import invalid_field

TIME_HELP = "Unix seconds (1767225600) or ISO 8601 (2026-01-01T00:00:00Z)"
_LATEST = 253402300799  # 9999-12-31T23:59:59Z


def parse_time(field: str, text: str, where: str = "query") -> int:
    try:
        seconds = float(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
        except ValueError:
            raise invalid_field(where, field, f"not a time: use {TIME_HELP}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        seconds = parsed.timestamp()
    if not math.isfinite(seconds) or not 0 <= seconds <= _LATEST:
        raise invalid_field(where, field, f"not a time between 1970 and 9999: use {TIME_HELP}")
    return int(seconds)

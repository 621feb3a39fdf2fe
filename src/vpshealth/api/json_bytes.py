"""JSON as FastAPI's own responses write it, for answers rendered ahead (``RenderCache``)."""

from __future__ import annotations

import json
from typing import Any


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

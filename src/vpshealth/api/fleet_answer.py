"""An answer about the whole fleet, from the render cache, kept and sent compressed: at 1,000
hosts the host list and /metrics are about 2 MB each, a tenth of that with gzip, and each
answer in flight holds its bytes in the connection's buffer until the client has read them."""

from __future__ import annotations

import gzip
from collections.abc import Callable

from fastapi import Response
from starlette.requests import HTTPConnection

from vpshealth.api.render_cache import RenderCache

GZIP_LEVEL = 6


def fleet_answer(
    connection: HTTPConnection,
    cache: RenderCache,
    key: str,
    render: Callable[[], bytes],
    media_type: str,
    *,
    seconds: float | None = None,
) -> Response:
    packed = cache.get(key, lambda: gzip.compress(render(), GZIP_LEVEL, mtime=0), seconds=seconds)
    if "gzip" in connection.headers.get("accept-encoding", "").lower():
        return Response(
            packed,
            media_type=media_type,
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(
        gzip.decompress(packed), media_type=media_type, headers={"Vary": "Accept-Encoding"}
    )

"""The container's healthcheck: exit 0 when the node's /api/v1/health answers 200.

Runs with the image's own Python and its standard library only (no curl in slim images).
It reads the address and TLS setting the service itself reads, and always asks over
loopback: a node bound to 0.0.0.0 answers there too.
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0


def health_url(api: str, tls: bool) -> str:
    port = api.rsplit(":", 1)[-1]
    host = api.rsplit(":", 1)[0].strip("[]") if ":" in api else "127.0.0.1"
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 -- a wildcard bind is asked on loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if tls else 'http'}://{host}:{port}/api/v1/health"


def main() -> int:
    tls = bool(os.environ.get("VPSHEALTH_API_TLS_CERT"))
    url = health_url(os.environ.get("VPSHEALTH_API", "127.0.0.1:8765"), tls)
    # The node's own certificate may be for its public name, not for loopback: this only
    # asks whether the process answers, so the certificate is not checked here.
    context = ssl._create_unverified_context() if tls else None  # noqa: S323
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS, context=context) as answer:  # noqa: S310
            status = answer.status
    except urllib.error.HTTPError as exc:
        print(f"{url}: {exc.code} {exc.reason}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())

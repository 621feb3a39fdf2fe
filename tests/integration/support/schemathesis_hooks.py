"""Loaded by schemathesis (SCHEMATHESIS_HOOKS): the bodies it makes up keep every field but the
server to reach. A host's address becomes loopback and a valid port one that nothing listens
on, so that adding or editing a host never sends traffic off this machine (or waits for a
connect timeout); the 5xx and schema checks still see every other field at random."""

from __future__ import annotations

import os
from typing import Any

import schemathesis

CLOSED_PORT = int(os.environ.get("VPSHEALTH_TEST_CLOSED_PORT", "9"))


@schemathesis.hook
def map_body(_context: Any, body: Any) -> Any:
    if isinstance(body, dict) and "address" in body:
        body = {**body, "address": "127.0.0.1"}
        port = body.get("port")
        if port is None or (isinstance(port, int) and 1 <= port <= 65535):
            body["port"] = CLOSED_PORT
    return body

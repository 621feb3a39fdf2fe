"""Coolify's real names and labels (tests/fixtures/docker/coolify), for starting look-alike
containers on the test dockerd."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURE = Path(__file__).parents[2] / "fixtures" / "docker" / "coolify" / "containers_list.json"

APP = "vgsco4o4kw0gc4cgoc8o0g0k"
"""The dockerfile app ``shop / production / web``."""
SERVICE = "h4g8ok0gsw8wcg0ckc4k8s84"
"""The one-click service ``blog / production / wordpress`` (members wordpress, mariadb)."""
DATABASE = "pgk4c0wwsso4o4k8ggw8sc0c"
"""The PostgreSQL ``shop / production / shop-db``; its proxy is ``{DATABASE}-proxy``."""


def labels_of(name: str) -> dict[str, str]:
    """The labels Coolify gives the fixture's container ``name``."""
    for row in json.loads(FIXTURE.read_text()):
        if row["Names"] == [f"/{name}"]:
            return dict(row["Labels"])
    raise KeyError(name)


def app_labels(name: str, pull_request: int = 0) -> dict[str, str]:
    """A container of the dockerfile app named ``name`` (``{APP}-{Hisu}``, ``{APP}-pr-N``):
    its compose service is its own name."""
    labels = labels_of(f"{APP}-pr-12" if pull_request else f"{APP}-101512345678")
    labels["com.docker.compose.service"] = name
    labels["coolify.pullRequestId"] = str(pull_request)
    return labels

"""Hetzner Cloud servers as VPS Health sees them: the SSH address and tags an imported host
gets, the reason the API gives for a server that does not answer, and how often the API may be
asked. Pure: the caller passes in what the API said and the time."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from vpshealth.domain.hosts import check_tag

PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
SOURCE: Final = "Hetzner Cloud"

ASK_INTERVAL_SECONDS: Final = 60.0
"""At most one list call per project this often: 60 an hour, against Hetzner's 3,600."""
ANSWER_FRESH_SECONDS: Final = 180.0
"""An answer older than this says nothing about the server now."""
FAILURE_BACKOFF_SECONDS: Final = 60.0
MAX_BACKOFF_SECONDS: Final = 900.0


class ServerStatus(StrEnum):
    """The documented values of a server's ``status``."""

    RUNNING = "running"
    INITIALIZING = "initializing"
    STARTING = "starting"
    STOPPING = "stopping"
    OFF = "off"
    DELETING = "deleting"
    MIGRATING = "migrating"
    REBUILDING = "rebuilding"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CloudServer:
    """What the API says of one server."""

    id: int
    name: str
    status: str
    locked: bool = False
    rescue_enabled: bool = False
    ipv4: str | None = None
    ipv6_network: str | None = None
    labels: Mapping[str, str] | None = None


def check_project_name(value: str) -> str:
    if not PROJECT_NAME.fullmatch(value):
        raise ValueError(
            "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def ssh_address(server: CloudServer) -> str | None:
    """The public IPv4 address; else the first address of the server's IPv6 network (``::1``,
    the one Hetzner configures); None when the server has neither."""
    if server.ipv4:
        return server.ipv4
    if server.ipv6_network:
        network = ipaddress.ip_network(server.ipv6_network, strict=False)
        return str(network.network_address + 1)
    return None


@dataclass(frozen=True, slots=True)
class LabelTags:
    tags: tuple[str, ...]
    dropped: tuple[str, ...]
    """Labels (``key=value``) that make no valid tag: longer than a tag may be."""


def label_tag(key: str, value: str) -> str:
    """``key=value`` as a tag: ``key:value`` (just ``key`` for an empty value), with the
    ``/`` of a prefixed key (``example.com/role``) written as ``.``."""
    text = f"{key}:{value}" if value else key
    return text.replace("/", ".")


def tags_from_labels(labels: Mapping[str, str]) -> LabelTags:
    tags: list[str] = []
    dropped: list[str] = []
    for key, value in sorted(labels.items()):
        tag = label_tag(key, value)
        try:
            check_tag(tag)
        except ValueError:
            dropped.append(f"{key}={value}")
            continue
        if tag not in tags:
            tags.append(tag)
    return LabelTags(tuple(tags), tuple(dropped))


_STATUS_REASONS: Final[dict[str, str]] = {
    ServerStatus.DELETING: "being deleted",
    ServerStatus.OFF: "powered off",
    ServerStatus.STOPPING: "shutting down",
    ServerStatus.REBUILDING: "being rebuilt",
    ServerStatus.MIGRATING: "migrating to another physical host",
}
"""Statuses that explain a server not answering, whatever else is true of it."""
_LATER_REASONS: Final[dict[str, str]] = {
    ServerStatus.STARTING: "starting",
    ServerStatus.INITIALIZING: "starting",
    ServerStatus.UNKNOWN: "in an unknown state",
}
RESCUE_REASON: Final = (
    "in rescue mode (Hetzner Cloud): the rescue system has a host key of its own, so VPS "
    "Health neither trusts it nor runs anything there until the server boots its own system "
    "again"
)


def down_reason(server: CloudServer | None, project: str) -> str | None:
    """Why the API says the server does not answer, or None when it says nothing of use
    (running, not locked, not in rescue mode). ``server`` None: it is gone from the
    project."""
    if server is None:
        return f"deleted from the project {project} ({SOURCE})"
    reason = _STATUS_REASONS.get(server.status)
    if reason is None and server.rescue_enabled:
        return RESCUE_REASON
    if reason is None and server.locked:
        reason = "locked by a running action"
    if reason is None:
        reason = _LATER_REASONS.get(server.status)
    return None if reason is None else f"{reason} ({SOURCE})"


def with_reason(message: str, reason: str) -> str:
    """The check's own message with the API's reason in front."""
    return f"{reason}: {message}" if message else reason


@dataclass(slots=True)
class AskPacing:
    """When one project's server list may be asked for again: not within
    ``ASK_INTERVAL_SECONDS`` of the last request, after a refusal (429) not before the time
    the API names, after an outage with a growing pause."""

    last_asked: float | None = None
    not_before: float = 0.0
    failures: int = 0

    def due(self, now: float) -> bool:
        if now < self.not_before:
            return False
        return self.last_asked is None or now - self.last_asked >= ASK_INTERVAL_SECONDS

    def asked(self, now: float) -> None:
        self.last_asked = now

    def answered(self) -> None:
        self.failures = 0
        self.not_before = 0.0

    def refused(self, now: float, reset_at: float | None) -> None:
        """A 429: wait for ``reset_at`` (the ``RateLimit-Reset`` time) or the longest pause."""
        self.failures += 1
        self.not_before = reset_at if reset_at and reset_at > now else now + MAX_BACKOFF_SECONDS

    def failed(self, now: float) -> None:
        """No answer (an outage, a timeout, a token no longer valid)."""
        self.failures += 1
        pause = min(FAILURE_BACKOFF_SECONDS * 2 ** (self.failures - 1), MAX_BACKOFF_SECONDS)
        self.not_before = now + pause


@dataclass(frozen=True, slots=True)
class ProjectAnswer:
    """One list call's servers, by id, and when it was made."""

    at: float
    servers: Mapping[int, CloudServer]

    @classmethod
    def of(cls, at: float, servers: Iterable[CloudServer]) -> ProjectAnswer:
        return cls(at, {s.id: s for s in servers})

    def fresh(self, now: float) -> bool:
        return now - self.at <= ANSWER_FRESH_SECONDS

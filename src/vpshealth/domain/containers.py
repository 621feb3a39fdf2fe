"""Docker containers as VPS Health sees them, and the incidents they cause."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ContainerState(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    EXITED = "exited"
    DEAD = "dead"
    REMOVING = "removing"


class Health(StrEnum):
    NONE = "none"
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


class GroupKind(StrEnum):
    COOLIFY = "coolify"
    COMPOSE = "compose"
    STANDALONE = "standalone"


@dataclass(frozen=True, slots=True)
class ContainerGroup:
    """Which app a container belongs to. For Coolify: project / environment / resource
    (``service`` for a service stack's member). For compose: project / service.
    ``infrastructure`` marks the Coolify proxy, coolify-sentinel and Coolify itself."""

    kind: GroupKind
    project: str | None = None
    environment: str | None = None
    resource: str | None = None
    service: str | None = None
    infrastructure: bool = False
    uuid: str | None = None
    """The resource's stable id: Coolify's resource uuid (its compose project), or the compose
    project. The same across deploys, unlike the container's name."""
    pull_request: int = 0
    """Coolify's ``pullRequestId``: 0 for production, N for the preview of pull request N."""
    member: str | None = None
    """The member of a service stack or compose app (its compose service), if it has several."""

    @property
    def identity(self) -> str | None:
        """The app's stable identity, the same for every deploy of it: kind, resource, pull
        request and member, e.g. ``coolify/<uuid>/pr-3`` or ``compose/blog/db``. None for a
        standalone container (its name is all there is). Never contains ":"."""
        resource = self.app_identity
        if resource is None or not self.member:
            return resource
        return f"{resource}/{_identity_part(self.member)}"

    @property
    def app_identity(self) -> str | None:
        """The identity of the whole resource (a stack, a compose app, a database with its
        proxy): ``identity`` without the member. Listings group containers by it."""
        if self.kind is GroupKind.STANDALONE:
            return None
        resource = self.uuid or self.project
        if resource is None:
            return None
        parts = [self.kind.value, _identity_part(resource)]
        if self.pull_request:
            parts.append(f"pr-{self.pull_request}")
        return "/".join(parts)

    @property
    def app(self) -> str | None:
        """How an alert names the app, e.g. ``shop / production / web``, ``blog / production /
        wordpress / mariadb`` for a stack's member, ``shop / production / web (PR #12)``."""
        parts = [p for p in (self.project, self.environment, self.resource or self.service) if p]
        if not parts:
            return None
        if self.member and self.member not in parts and self.kind is GroupKind.COOLIFY:
            parts.append(self.member)
        return " / ".join(parts) + self._preview_suffix

    @property
    def app_title(self) -> str | None:
        """The resource's name without the member, for a listing's heading."""
        name = self.resource_name
        return name + self._preview_suffix if name else None

    @property
    def resource_name(self) -> str | None:
        """``project / environment / resource`` alone: no member, no preview."""
        parts = [p for p in (self.project, self.environment, self.resource or self.service) if p]
        return " / ".join(parts) if parts else None

    @property
    def _preview_suffix(self) -> str:
        return f" (PR #{self.pull_request})" if self.pull_request else ""


def _identity_part(text: str) -> str:
    return text.replace(":", "_").replace("/", "_")


STANDALONE = ContainerGroup(GroupKind.STANDALONE)


@dataclass(frozen=True, slots=True)
class Container:
    """One container from the engine's listing plus its inspect data. Times are integer Unix
    seconds; ``None`` when Docker reports its zero time."""

    id: str
    name: str
    image: str
    created: int
    state: ContainerState
    health: Health = Health.NONE
    failing_streak: int = 0
    restart_count: int = 0
    exit_code: int | None = None
    oom_killed: bool = False
    started_at: int | None = None
    finished_at: int | None = None
    ports: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    group: ContainerGroup = field(default=STANDALONE)

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass(frozen=True, slots=True)
class ContainerStats:
    """Raw counters of one one-shot stats read (``/containers/{id}/stats?stream=false&
    one-shot=true``)."""

    container_id: str
    cpu_total_usage: int
    system_cpu_usage: int | None
    online_cpus: int
    memory_usage: int | None
    memory_inactive_file: int
    memory_limit: int | None


@dataclass(frozen=True, slots=True)
class ContainerMetrics:
    cpu_percent: float | None
    memory_bytes: int | None
    memory_limit_bytes: int | None


def container_cpu_percent(before: ContainerStats, after: ContainerStats) -> float | None:
    """The docker CLI's formula over our own two polls: the container's share of the host's CPU
    time between them, times the number of online CPUs (so one busy core = 100 %)."""
    if before.system_cpu_usage is None or after.system_cpu_usage is None:
        return None
    cpu_delta = after.cpu_total_usage - before.cpu_total_usage
    system_delta = after.system_cpu_usage - before.system_cpu_usage
    if cpu_delta < 0 or system_delta <= 0:
        return None
    cpus = max(after.online_cpus, 1)
    return round(min(cpu_delta / system_delta, 1.0) * cpus * 100.0, 2)


def container_memory_bytes(stats: ContainerStats) -> int | None:
    """Memory used as ``docker stats`` shows it: usage minus the inactive page cache."""
    if stats.memory_usage is None:
        return None
    return max(stats.memory_usage - stats.memory_inactive_file, 0)


@dataclass(frozen=True, slots=True)
class DockerEvent:
    """One container event from the engine's ``/events`` stream, with the container's labels
    and the app they name (the engine sends them with every event)."""

    time: int
    action: str
    container_id: str
    name: str
    exit_code: int | None = None
    health: Health | None = None
    signal: int | None = None
    labels: tuple[tuple[str, str], ...] = ()
    group: ContainerGroup = field(default=STANDALONE)


class IncidentKind(StrEnum):
    CRASHED = "crashed"
    RESTART_LOOP = "restart_loop"
    OOM_KILLED = "oom_killed"
    UNHEALTHY = "unhealthy"
    DISAPPEARED = "disappeared"
    DOCKER_UNAVAILABLE = "docker_unavailable"
    DOCKER_PERMISSION_DENIED = "docker_permission_denied"


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


INCIDENT_SEVERITY: dict[IncidentKind, Severity] = {
    IncidentKind.CRASHED: Severity.CRITICAL,
    IncidentKind.RESTART_LOOP: Severity.CRITICAL,
    IncidentKind.OOM_KILLED: Severity.CRITICAL,
    IncidentKind.UNHEALTHY: Severity.WARNING,
    IncidentKind.DISAPPEARED: Severity.WARNING,
    IncidentKind.DOCKER_UNAVAILABLE: Severity.CRITICAL,
    IncidentKind.DOCKER_PERMISSION_DENIED: Severity.CRITICAL,
}


@dataclass(frozen=True, slots=True)
class ContainerIncident:
    """An incident opened or resolved. ``container_id``/``container_name`` are empty for the
    daemon-level kinds; ``app`` is the group's app name where there is one. ``replaces``: the
    open incident of that kind (same container) becomes this one instead of a new incident
    opening (a crash that turned into a restart loop); it keeps its id and opening time."""

    kind: IncidentKind
    opened: bool
    at: int
    container_id: str
    container_name: str
    app: str | None
    message: str
    log_lines: str | None = None
    """The last lines the container wrote before it failed, where they were read."""
    replaces: IncidentKind | None = None

    @property
    def severity(self) -> Severity:
        return INCIDENT_SEVERITY[self.kind]

    @property
    def subject(self) -> str:
        """What the incident is about: one per (host, kind, subject) is open at a time."""
        return self.container_name or "docker"


LOGGED_KINDS: frozenset[IncidentKind] = frozenset(
    {IncidentKind.CRASHED, IncidentKind.OOM_KILLED, IncidentKind.RESTART_LOOP}
)
"""Incidents whose opening carries the container's last log lines."""


@dataclass(frozen=True, slots=True)
class ContainerView:
    """A container with the metrics of this poll."""

    container: Container
    metrics: ContainerMetrics


@dataclass(frozen=True, slots=True)
class DockerReport:
    """What one poll learned about a host's Docker. ``containers`` is None when the host has no
    Docker (or it could not be read: then ``problem`` says why). ``changes`` are incidents
    opened or resolved by this poll; ``open`` is every incident open after it."""

    containers: tuple[ContainerView, ...] | None
    changes: tuple[ContainerIncident, ...] = ()
    open: tuple[ContainerIncident, ...] = ()
    problem: IncidentKind | None = None
    message: str = ""

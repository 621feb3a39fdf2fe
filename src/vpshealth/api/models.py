"""The API's answers, typed: the same JSON as ``vpshealth ... --json`` prints (built from
``read_model.json_shapes``), so that whoever knows the CLI's JSON knows the API's."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vpshealth.domain.containers import ContainerState, GroupKind, Health
from vpshealth.domain.health import HostState, Problem
from vpshealth.domain.hosts import AuthMethod, HostKind
from vpshealth.domain.silences import SilenceKind

Time = str
"""UTC, ISO 8601 with a ``Z``, e.g. ``2027-01-15T08:00:00Z``."""


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SystemInfo(Answer):
    hostname: str
    kernel: str
    os: str


class Memory(Answer):
    total_bytes: int
    available_bytes: int
    used_bytes: int


class Swap(Answer):
    total_bytes: int
    used_bytes: int


class Disk(Answer):
    mount: str
    fstype: str
    total_bytes: int
    used_bytes: int
    available_bytes: int


class NetworkInterface(Answer):
    interface: str
    rx_bytes: int
    tx_bytes: int


class Metrics(Answer):
    cpu_percent: float | None
    cpu_count: int
    load: list[float] = Field(description="1, 5 and 15 minutes")
    memory: Memory
    swap: Swap
    uptime_seconds: float
    disks: list[Disk]
    network: list[NetworkInterface]


class HostOut(Answer):
    """As ``vpshealth host show NAME --json``."""

    name: str
    kind: HostKind
    address: str
    port: int
    user: str
    auth: AuthMethod
    interval_seconds: int
    enabled: bool
    tags: list[str]
    docker_socket: str | None = Field(description="null for the local host")
    host_key_fingerprint: str | None = Field(description="null until the host key is trusted")
    system: SystemInfo | None
    state: HostState
    problem: Problem | None
    message: str
    state_since: Time | None
    checked_at: Time | None
    metrics: Metrics | None = Field(description="of the last successful check")


class HostList(Answer):
    hosts: list[HostOut]


class ContainerGroup(Answer):
    kind: GroupKind
    project: str | None
    environment: str | None
    resource: str | None
    identity: str | None = Field(
        description="the app's stable identity across deploys, e.g. coolify/<uuid>/pr-3 or "
        "coolify/<uuid>/<member>; null for a standalone container",
        examples=["coolify/vgsco4o4kw0gc4cgoc8o0g0k"],
    )
    app: str | None = Field(
        examples=["shop / production / web", "blog / production / wordpress / mariadb"]
    )


class Container(Answer):
    id: str
    name: str
    image: str
    state: ContainerState
    health: Health
    failing_streak: int
    restart_count: int
    exit_code: int | None
    oom_killed: bool
    cpu_percent: float | None
    memory_bytes: int | None
    memory_limit_bytes: int | None
    created: Time | None
    started_at: Time | None
    finished_at: Time | None
    ports: list[str]
    group: ContainerGroup
    infrastructure: bool


class App(Answer):
    """Containers of one app, as ``vpshealth containers NAME`` groups them."""

    title: str = Field(examples=["Coolify: shop", "Compose: blog", "Standalone containers"])
    containers: list[str] = Field(description="container ids, in the order of `containers`")


class HostContainers(Answer):
    """As ``vpshealth containers NAME --json``, plus ``apps``."""

    host: str
    seen_at: Time | None = Field(description="when the containers were last seen")
    containers: list[Container]
    apps: list[App]


class CheckIncident(Answer):
    kind: str
    container: str | None
    app: str | None
    severity: str
    since: Time | None
    message: str


class CheckResultOut(Answer):
    """As one host of ``vpshealth check NAME --json``."""

    name: str
    address: str
    state: HostState
    problem: Problem | None
    message: str
    checked_at: Time | None
    metrics: Metrics | None
    containers: list[Container] | None = Field(description="null without Docker")
    incidents: list[CheckIncident]


class Incident(Answer):
    id: int
    host: str
    address: str
    rule: str
    subject: str
    app: str | None
    severity: str
    state: Literal["open", "acknowledged", "flapping", "resolved"]
    opened_at: Time | None
    resolved_at: Time | None
    acknowledged_at: Time | None
    message: str
    resolution: str | None
    value: float | None
    threshold: float | None
    reminders_sent: int
    log_lines: str | None = Field(
        default=None,
        description="the container's last log lines (at most 30 lines, 8 KB) for a crash, OOM "
        "kill or restart loop; null when not read (rule containers.logs off) or not a container",
    )


class IncidentPage(Answer):
    incidents: list[Incident] = Field(description="newest first")
    next: int | None = Field(
        description="pass as `before` for the next (older) page; null on the last page"
    )


class EventOut(Answer):
    id: int = Field(description="the event's cursor: `after` this id comes what follows it")
    time: Time | None
    host: str | None = Field(description="null when the host was removed since")
    kind: Literal["state_change", "incident_opened", "incident_resolved"]
    old_state: str | None
    new_state: str | None
    problem: str | None
    message: str


class EventPage(Answer):
    events: list[EventOut] = Field(description="oldest first")
    next: int = Field(
        description="pass as `after` to get what follows; the same `after` when nothing "
        "new was recorded, so a client can keep it and ask again later"
    )
    more: bool = Field(description="more events are waiting: ask again with `after=next` now")


class SilenceOut(Answer):
    id: int
    host: str | None = Field(description="null: every host")
    kind: SilenceKind
    active: bool = Field(description="in force now")
    when: str = Field(description="in words, times in UTC")
    starts_at: Time | None
    ends_at: Time | None
    reason: str


class SilenceList(Answer):
    windows: list[SilenceOut]


class Rule(Answer):
    value: float
    set_here: bool = Field(description="set for this host (or, without a host, changed)")
    default: float
    unit: str


class Rules(Answer):
    """As ``vpshealth rules [NAME] --json``."""

    host: str | None = Field(description="null: the defaults for every host")
    rules: dict[str, Rule]


class SeriesPoint(Answer):
    time: Time | None
    ts: int = Field(description="Unix seconds")
    value: float = Field(description="the sample, or the average of the step")
    min: float | None = Field(default=None, description="only when step_seconds > 0")
    avg: float | None = Field(default=None, description="only when step_seconds > 0")
    max: float | None = Field(default=None, description="only when step_seconds > 0")


class Series(Answer):
    """As ``vpshealth history NAME METRIC --json``."""

    host: str
    metric: str
    resolution: Literal["raw", "1m", "1h"]
    step_seconds: int = Field(description="0: every point is one sample")
    points: list[SeriesPoint]


class MetricList(Answer):
    host: str
    metrics: list[str] = Field(description="series names to pass as `metric`")


class HostSaved(HostOut):
    """The host as GET /api/v1/hosts/{name} answers it, after a POST or PATCH."""

    authorized_keys_line: str | None = Field(
        description="with `generate_key` only: append it to ~/.ssh/authorized_keys of the "
        "host's user on the server; the checks fail until it is there"
    )


class FieldKept(Answer):
    field: str
    kept: Any = Field(description="the value the node has, changed since the edit's base")
    lost: Any = Field(description="the value the edit asked for, not applied")


class HostEdited(HostSaved):
    """After a PATCH: the host, and the fields of `expected` that were changed on the node
    meanwhile and so kept as they were."""

    kept: list[FieldKept] = Field(default_factory=list)


class AckOutcome(Answer):
    id: int
    outcome: Literal["acknowledged", "already acknowledged", "unknown", "resolved"]


class AckOutcomes(Answer):
    results: list[AckOutcome]


class SnoozesEnded(Answer):
    ended: int = Field(description="how many snoozes were running and ended now")


class EmailSettingOut(Answer):
    setting: str = Field(examples=["email.smtp_host"])
    value: str | int | bool | list[str] | None
    source: str = Field(description="`stored`, `default`, or the environment variable that sets it")


class EmailSettings(Answer):
    """As ``vpshealth notify show --json``; the password itself is never answered."""

    configured: bool
    problem: str | None = Field(description="why no e-mail is sent; null when it is set up")
    settings: list[EmailSettingOut]
    password: str = Field(description="whether one is set and where, e.g. `set (OS keyring)`")

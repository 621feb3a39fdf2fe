"""Parsers for the Docker Engine API's JSON (API 1.41 and later): the container listing, one
container's inspect data, a one-shot stats read, one line of the events stream and the version.

Pure functions: bytes or text in, domain objects out. Whatever the engine (or something
pretending to be it) sends, they either return values that are sane to store (integers within
SQLite's 64 bits, text without lone surrogates, names without control characters) or raise
``ParseError`` with a short message; never any other exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from vpshealth.domain.container_identity import group_of
from vpshealth.domain.containers import (
    Container,
    ContainerGroup,
    ContainerState,
    ContainerStats,
    DockerEvent,
    Health,
)
from vpshealth.domain.errors import ParseError

MAX_INT: Final = 2**63 - 1
"""Largest value that can be stored (SQLite INTEGER); anything above is garbage."""

MAX_BODY_BYTES: Final = 64 * 1024 * 1024
"""A listing of a few hundred containers is well under 1 MB; far bigger is not Docker."""

_MAX_EVENT_LINE_BYTES: Final = 1024 * 1024
_MAX_NAME_CHARS: Final = 255
_MAX_IMAGE_CHARS: Final = 1024
_MAX_LABELS: Final = 10_000
_MAX_LABEL_KEY_CHARS: Final = 1024
_MAX_LABEL_VALUE_CHARS: Final = 65_536
_MAX_PORTS: Final = 65_536
_MAX_CPUS: Final = 65_536
_MAX_INT_DIGITS: Final = 40
_UNLIMITED_MEMORY: Final = 2**62
"""A memory limit at or above this (4 EiB) is a kernel "no limit" sentinel, not a limit."""

_MIN_EXIT_CODE: Final = -(2**31)
_MAX_EXIT_CODE: Final = 2**32 - 1

_ID_RE: Final = re.compile(r"[0-9a-f]{64}")
_API_VERSION_RE: Final = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}")
_SIGNAL_RE: Final = re.compile(r"[0-9]{1,3}")
_EXIT_CODE_RE: Final = re.compile(r"-?[0-9]{1,10}")
_HOST_PORT_RE: Final = re.compile(r"[0-9]{1,5}")
_PORT_KEY_RE: Final = re.compile(r"([0-9]{1,5})/([a-z]{1,8})")
_TIME_RE: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_ZERO_TIME_YEAR: Final = 1
"""Go's zero ``time.Time`` (``0001-01-01T00:00:00Z``): Docker's "never"."""

_PORT_PROTOCOLS: Final = frozenset({"tcp", "udp", "sctp"})

FOLLOWED_ACTIONS: Final = frozenset(
    {"create", "start", "restart", "die", "oom", "kill", "stop", "destroy", "pause", "unpause"}
    | {"health_status"}
)
"""Container event actions that ``parse_event`` turns into a ``DockerEvent``."""

EVENT_ATTRIBUTES: Final = frozenset(
    {"name", "image", "exitCode", "execDuration", "signal", "oldName", "execID"}
)
"""``Actor.Attributes`` keys the engine adds itself; every other key is one of the container's
labels (moby's ``daemon/events.go``, ``LogContainerEventWithAttributes``, copies them all)."""

_STATES: Final = {state.value: state for state in ContainerState}
_NO_EXIT_STATES: Final = frozenset(
    {ContainerState.CREATED, ContainerState.RUNNING, ContainerState.PAUSED}
)
"""States in which ``State.ExitCode`` (always 0 there) says nothing: never ran, or running."""
_HEALTH: Final = {health.value: health for health in Health}


@dataclass(frozen=True, slots=True)
class ContainerSummary:
    """One row of ``GET /containers/json?all=1``. ``created`` is Unix seconds; ``labels`` are
    sorted (key, value) pairs; ``ports`` as the docker CLI prints them, sorted."""

    id: str
    name: str
    image: str
    created: int
    state: ContainerState
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[str, ...] = ()
    status: str = ""
    """The engine's one-line status ("Up 5 minutes (healthy)"); it changes whenever state,
    health or restarts do, so it tells when a cached inspect is out of date."""

    @property
    def group(self) -> ContainerGroup:
        return group_of(dict(self.labels), self.name, self.image)


class _JsonError(Exception):
    """Raised from inside the JSON decoder's hooks; turned into ParseError."""


# --- public parsers -----------------------------------------------------------------------


def parse_container_list(body: bytes | str) -> list[ContainerSummary]:
    """``GET /containers/json?all=1``: every container, in the engine's order."""
    rows = _array(_load(body, "listing"), "listing")
    summaries: list[ContainerSummary] = []
    seen: set[str] = set()
    for row in rows:
        summary = _summary(_object(row, "listing: container"))
        if summary.id in seen:
            raise ParseError(f"listing: container {summary.id[:12]} appears twice")
        seen.add(summary.id)
        summaries.append(summary)
    return summaries


def parse_inspect(body: bytes | str) -> Container:
    """``GET /containers/{id}/json``."""
    data = _object(_load(body, "inspect"), "inspect")
    where = "inspect"
    container_id = _container_id(data.get("Id"), where)
    name = _name(data.get("Name"), where)
    state_data = _object(data.get("State"), f"{where}: State")
    config = _object(data.get("Config"), f"{where}: Config")
    state = _state(state_data.get("Status"), f"{where}: State.Status")
    health, failing_streak = _health(state_data.get("Health"), where)
    labels = _labels(config.get("Labels"), f"{where}: Config.Labels")
    image = _text(config.get("Image"), f"{where}: Config.Image", _MAX_IMAGE_CHARS)
    created = _time(data.get("Created"), f"{where}: Created")
    if created is None:
        raise ParseError(f"{where}: Created is the zero time")
    exit_code = _exit_code(state_data.get("ExitCode"), f"{where}: State.ExitCode")
    network = data.get("NetworkSettings")
    ports = (
        ()
        if network is None
        else _inspect_ports(_object(network, f"{where}: NetworkSettings").get("Ports"), where)
    )
    return Container(
        id=container_id,
        name=name,
        image=image,
        created=created,
        state=state,
        health=health,
        failing_streak=failing_streak,
        restart_count=_count(data.get("RestartCount"), f"{where}: RestartCount"),
        exit_code=None if state in _NO_EXIT_STATES else exit_code,
        oom_killed=_bool(state_data.get("OOMKilled", False), f"{where}: State.OOMKilled"),
        started_at=_time(state_data.get("StartedAt"), f"{where}: State.StartedAt"),
        finished_at=_time(state_data.get("FinishedAt"), f"{where}: State.FinishedAt"),
        ports=ports,
        labels=labels,
        group=group_of(dict(labels), name, image),
    )


def parse_stats(body: bytes | str) -> ContainerStats:
    """``GET /containers/{id}/stats?stream=false&one-shot=true`` on cgroup v1 or v2.

    A container that is not running answers with empty ``memory_stats`` and zero CPU counters:
    memory usage and limit are then None, as is ``system_cpu_usage`` (missing there).
    """
    where = "stats"
    data = _object(_load(body, where), where)
    container_id = _container_id(data.get("id"), where)
    cpu = _object(data.get("cpu_stats"), f"{where}: cpu_stats")
    usage = _object(cpu.get("cpu_usage"), f"{where}: cpu_usage")
    total = _count(usage.get("total_usage"), f"{where}: total_usage")
    percpu = usage.get("percpu_usage")
    percpu_count = 0
    if percpu is not None:
        percpu_list = _array(percpu, f"{where}: percpu_usage")
        if len(percpu_list) > _MAX_CPUS:
            raise ParseError(f"{where}: percpu_usage has too many entries")
        for value in percpu_list:
            _count(value, f"{where}: percpu_usage")
        percpu_count = len(percpu_list)
    online = cpu.get("online_cpus")
    online_cpus = 0 if online is None else _count(online, f"{where}: online_cpus")
    if online_cpus > _MAX_CPUS:
        raise ParseError(f"{where}: online_cpus out of range")
    if online_cpus == 0:
        online_cpus = percpu_count or 1
    system = cpu.get("system_cpu_usage")
    system_cpu = None if system is None else _count(system, f"{where}: system_cpu_usage")
    memory_usage, inactive, limit = _memory(data.get("memory_stats"), where)
    return ContainerStats(
        container_id=container_id,
        cpu_total_usage=total,
        system_cpu_usage=system_cpu,
        online_cpus=online_cpus,
        memory_usage=memory_usage,
        memory_inactive_file=inactive,
        memory_limit=limit,
    )


def parse_event(line: bytes | str) -> DockerEvent | None:
    """One JSON line of ``GET /events``. None for a blank line, an event that is not about a
    container, or an action not in ``FOLLOWED_ACTIONS`` (``exec_*``, ``attach``, ...). The
    container's labels come with every event, so its app is known before any listing."""
    where = "event"
    if isinstance(line, bytes | bytearray) and len(line) > _MAX_EVENT_LINE_BYTES:
        raise ParseError(f"{where}: line too long")
    if isinstance(line, str) and len(line) > _MAX_EVENT_LINE_BYTES:
        raise ParseError(f"{where}: line too long")
    text = _decode(line, where)
    if not text.strip():
        return None
    data = _object(_loads(text, where), where)
    kind = data.get("Type")
    if kind != "container":
        if kind is None or isinstance(kind, str):
            return None
        raise ParseError(f"{where}: Type is not text")
    raw_action = data.get("Action", data.get("status"))
    action_text = _text(raw_action, f"{where}: Action", 4096)
    action, _, detail = action_text.partition(":")
    if action not in FOLLOWED_ACTIONS:
        return None
    health: Health | None = None
    if action == "health_status":
        health = _HEALTH.get(detail.strip())
        if health is None or health is Health.NONE:
            return None
    actor = _object(data.get("Actor"), f"{where}: Actor")
    container_id = _container_id(actor.get("ID", data.get("id")), f"{where}: Actor.ID")
    attributes = _object(actor.get("Attributes", {}), f"{where}: Actor.Attributes")
    name = _name(attributes.get("name"), f"{where}: name", leading_slash=False)
    exit_code: int | None = None
    signal: int | None = None
    if action == "die" and "exitCode" in attributes:
        exit_code = _exit_code_text(attributes["exitCode"], f"{where}: exitCode")
    if action == "kill" and "signal" in attributes:
        signal = _signal(attributes["signal"], f"{where}: signal")
    labels = _labels(
        {k: v for k, v in attributes.items() if k not in EVENT_ATTRIBUTES},
        f"{where}: Actor.Attributes",
    )
    raw_image = attributes.get("image", "")
    image = _clean(_text(raw_image, f"{where}: image", _MAX_IMAGE_CHARS)) if raw_image else ""
    return DockerEvent(
        time=_event_time(data, where),
        action=action,
        container_id=container_id,
        name=name,
        exit_code=exit_code,
        health=health,
        signal=signal,
        labels=labels,
        group=group_of(dict(labels), name, image),
    )


def parse_version(body: bytes | str) -> str:
    """``GET /version``: the engine's API version, e.g. ``"1.41"``."""
    data = _object(_load(body, "version"), "version")
    version = data.get("ApiVersion")
    if not isinstance(version, str) or _API_VERSION_RE.fullmatch(version) is None:
        raise ParseError(f"version: ApiVersion missing or malformed: {_excerpt(version)}")
    return version


# --- pieces -------------------------------------------------------------------------------


def _summary(row: dict[str, object]) -> ContainerSummary:
    where = "listing"
    container_id = _container_id(row.get("Id"), where)
    names = _array(row.get("Names"), f"{where}: Names")
    return ContainerSummary(
        id=container_id,
        name=_primary_name(names, where),
        image=_text(row.get("Image"), f"{where}: Image", _MAX_IMAGE_CHARS),
        created=_count(row.get("Created"), f"{where}: Created"),
        state=_state(row.get("State"), f"{where}: State"),
        labels=_labels(row.get("Labels"), f"{where}: Labels"),
        ports=_listing_ports(row.get("Ports"), where),
        status=_status_text(row.get("Status")),
    )


def _status_text(raw: object) -> str:
    return _clean(raw[:200]) if isinstance(raw, str) else ""


def _primary_name(names: list[object], where: str) -> str:
    """The container's own name. Legacy links add names like ``/web/db`` (the container
    ``db`` as seen from ``web``); the own name is the one with a single leading slash."""
    for raw in names:
        if isinstance(raw, str) and raw.startswith("/") and "/" not in raw[1:]:
            return _name(raw, f"{where}: Names")
    raise ParseError(f"{where}: no container name in Names")


def _name(raw: object, where: str, *, leading_slash: bool = True) -> str:
    text = _text(raw, where, _MAX_NAME_CHARS + 1)
    if leading_slash:
        text = text.removeprefix("/")
    if not text or len(text) > _MAX_NAME_CHARS:
        raise ParseError(f"{where}: empty or overlong name")
    return "".join(char if char.isprintable() else "?" for char in text)


def _state(raw: object, where: str) -> ContainerState:
    state = _STATES.get(raw) if isinstance(raw, str) else None
    if state is None:
        raise ParseError(f"{where}: unknown state {_excerpt(raw)}")
    return state


def _health(raw: object, where: str) -> tuple[Health, int]:
    """``State.Health``: missing or null for a container without a healthcheck."""
    if raw is None:
        return Health.NONE, 0
    data = _object(raw, f"{where}: State.Health")
    status = data.get("Status")
    health = _HEALTH.get(status) if isinstance(status, str) else None
    if health is None:
        if status in (None, ""):
            health = Health.NONE
        else:
            raise ParseError(f"{where}: unknown health {_excerpt(status)}")
    streak = data.get("FailingStreak")
    failing = 0 if streak is None else _count(streak, f"{where}: FailingStreak")
    return health, failing


def _labels(raw: object, where: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    data = _object(raw, where)
    if len(data) > _MAX_LABELS:
        raise ParseError(f"{where}: too many labels")
    pairs = []
    for key, value in data.items():
        pairs.append(
            (
                _clean(_text(key, where, _MAX_LABEL_KEY_CHARS)),
                _clean(_text(value, f"{where}: {_excerpt(key)}", _MAX_LABEL_VALUE_CHARS)),
            )
        )
    return tuple(sorted(pairs))


def _listing_ports(raw: object, where: str) -> tuple[str, ...]:
    """``Ports`` of the listing: ``[{IP, PrivatePort, PublicPort, Type}]``; IP and PublicPort
    only for published ports."""
    if raw is None:
        return ()
    rows = _array(raw, f"{where}: Ports")
    if len(rows) > _MAX_PORTS:
        raise ParseError(f"{where}: too many ports")
    ports: set[str] = set()
    for item in rows:
        row = _object(item, f"{where}: Ports")
        private = _port(row.get("PrivatePort"), f"{where}: PrivatePort")
        protocol = _protocol(row.get("Type"), f"{where}: Ports.Type")
        public = row.get("PublicPort")
        if public is None:
            ports.add(f"{private}/{protocol}")
            continue
        host_ip = row.get("IP")
        ip = "" if host_ip is None else _host_ip(host_ip, f"{where}: Ports.IP")
        ports.add(_published(ip, _port(public, f"{where}: PublicPort"), private, protocol))
    return _sorted_ports(ports)


def _inspect_ports(raw: object, where: str) -> tuple[str, ...]:
    """``NetworkSettings.Ports``: ``{"80/tcp": [{"HostIp", "HostPort"}] | null}``."""
    if raw is None:
        return ()
    data = _object(raw, f"{where}: NetworkSettings.Ports")
    if len(data) > _MAX_PORTS:
        raise ParseError(f"{where}: too many ports")
    ports: set[str] = set()
    for key, bindings in data.items():
        match = _PORT_KEY_RE.fullmatch(key)
        if match is None or match.group(2) not in _PORT_PROTOCOLS:
            raise ParseError(f"{where}: malformed port {_excerpt(key)}")
        private = _port_number(int(match.group(1)), f"{where}: port")
        protocol = match.group(2)
        if bindings is None or bindings == []:
            ports.add(f"{private}/{protocol}")
            continue
        for item in _array(bindings, f"{where}: port bindings"):
            binding = _object(item, f"{where}: port binding")
            host_port = binding.get("HostPort")
            if not isinstance(host_port, str) or _HOST_PORT_RE.fullmatch(host_port) is None:
                raise ParseError(f"{where}: malformed HostPort {_excerpt(host_port)}")
            public = _port_number(int(host_port), f"{where}: HostPort")
            host_ip = binding.get("HostIp")
            ip = "" if host_ip is None else _host_ip(host_ip, f"{where}: HostIp")
            ports.add(_published(ip, public, private, protocol))
    return _sorted_ports(ports)


def _published(ip: str, public: int, private: int, protocol: str) -> str:
    """As the docker CLI prints it: ``0.0.0.0:8080->80/tcp``, ``[::]:8080->80/tcp``."""
    host = f"[{ip}]" if ":" in ip else ip
    prefix = f"{host}:" if host else ""
    return f"{prefix}{public}->{private}/{protocol}"


def _sorted_ports(ports: set[str]) -> tuple[str, ...]:
    def key(port: str) -> tuple[int, str, str]:
        target = port.rpartition("->")[2]
        number, _, protocol = target.partition("/")
        return int(number), protocol, port

    return tuple(sorted(ports, key=key))


def _port(raw: object, where: str) -> int:
    return _port_number(_count(raw, where), where)


def _port_number(value: int, where: str) -> int:
    if not 0 < value <= 65_535:
        raise ParseError(f"{where}: port out of range")
    return value


def _protocol(raw: object, where: str) -> str:
    if not isinstance(raw, str) or raw not in _PORT_PROTOCOLS:
        raise ParseError(f"{where}: unknown protocol {_excerpt(raw)}")
    return raw


def _host_ip(raw: object, where: str) -> str:
    text = _text(raw, where, 64)
    if any(not (char.isascii() and (char.isalnum() or char in ".:%-_")) for char in text):
        raise ParseError(f"{where}: malformed address {_excerpt(text)}")
    return text


def _memory(raw: object, where: str) -> tuple[int | None, int, int | None]:
    """(usage, inactive_file, limit) the way the docker CLI computes ``docker stats``:
    cgroup v1 reports ``total_inactive_file``, cgroup v2 ``inactive_file``; the inactive page
    cache only counts when it is below the usage (else the CLI shows the raw usage)."""
    if raw is None:
        return None, 0, None
    memory = _object(raw, f"{where}: memory_stats")
    usage_raw = memory.get("usage")
    usage = None if usage_raw is None else _count(usage_raw, f"{where}: memory usage")
    stats_raw = memory.get("stats")
    inactive = 0
    if stats_raw is not None:
        stats = _object(stats_raw, f"{where}: memory_stats.stats")
        key = "total_inactive_file" if "total_inactive_file" in stats else "inactive_file"
        if key in stats:
            inactive = _count(stats[key], f"{where}: {key}")
    if usage is None or inactive >= usage:
        inactive = 0
    limit_raw = memory.get("limit")
    limit = None if limit_raw is None else _count(limit_raw, f"{where}: memory limit")
    if limit is not None and (limit == 0 or limit >= _UNLIMITED_MEMORY):
        limit = None
    return usage, inactive, limit


def _event_time(data: dict[str, object], where: str) -> int:
    """Unix seconds: ``time``, or ``timeNano`` when only that is present."""
    if data.get("time") is not None:
        return _count(data["time"], f"{where}: time")
    if data.get("timeNano") is not None:
        return _count(data["timeNano"], f"{where}: timeNano") // 1_000_000_000
    raise ParseError(f"{where}: no time")


def _exit_code(raw: object, where: str) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ParseError(f"{where}: not an integer: {_excerpt(raw)}")
    if not _MIN_EXIT_CODE <= raw <= _MAX_EXIT_CODE:
        raise ParseError(f"{where}: out of range")
    return raw


def _exit_code_text(raw: object, where: str) -> int:
    if not isinstance(raw, str) or _EXIT_CODE_RE.fullmatch(raw) is None:
        raise ParseError(f"{where}: not an exit code: {_excerpt(raw)}")
    return _exit_code(int(raw), where)


def _signal(raw: object, where: str) -> int:
    if not isinstance(raw, str) or _SIGNAL_RE.fullmatch(raw) is None:
        raise ParseError(f"{where}: not a signal number: {_excerpt(raw)}")
    value = int(raw)
    if not 0 < value <= 128:
        raise ParseError(f"{where}: signal out of range")
    return value


def _time(raw: object, where: str) -> int | None:
    """RFC 3339 with up to nanoseconds -> Unix seconds (rounded down); Docker's zero time ->
    None. Times before 1970 other than the zero time are garbage."""
    if not isinstance(raw, str):
        raise ParseError(f"{where}: not a time: {_excerpt(raw)}")
    match = _TIME_RE.fullmatch(raw)
    if match is None:
        raise ParseError(f"{where}: malformed time {_excerpt(raw)}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if year == _ZERO_TIME_YEAR and (month, day, hour, minute, second) == (1, 1, 0, 0, 0):
        return None
    zone = match.group(7)
    try:
        if zone in ("Z", "z"):
            tz = UTC
        else:
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            offset = timedelta(hours=hours, minutes=minutes)
            tz = timezone(-offset if zone[0] == "-" else offset)
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz)
        seconds = int((moment - _EPOCH).total_seconds())
    except (ValueError, OverflowError):
        raise ParseError(f"{where}: impossible time {_excerpt(raw)}") from None
    if seconds < 0:
        raise ParseError(f"{where}: time before 1970: {_excerpt(raw)}")
    return seconds


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _container_id(raw: object, where: str) -> str:
    if not isinstance(raw, str) or _ID_RE.fullmatch(raw) is None:
        raise ParseError(f"{where}: not a container id: {_excerpt(raw)}")
    return raw


# --- JSON and type checks -----------------------------------------------------------------


def _load(body: bytes | str, where: str) -> object:
    if isinstance(body, bytes | bytearray):
        if len(body) > MAX_BODY_BYTES:
            raise ParseError(f"{where}: answer too large ({len(body)} bytes)")
    elif isinstance(body, str):
        if len(body) > MAX_BODY_BYTES:
            raise ParseError(f"{where}: answer too large")
    else:
        raise ParseError(f"{where}: expected bytes or text, got {type(body).__name__}")
    return _loads(_decode(body, where), where)


def _decode(body: bytes | bytearray | str, where: str) -> str:
    """UTF-8 (what Docker always sends); a stray invalid byte becomes U+FFFD rather than
    failing the whole answer, and the JSON must still make sense."""
    if isinstance(body, str):
        return body
    if not isinstance(body, bytes | bytearray):
        raise ParseError(f"{where}: expected bytes or text")
    return bytes(body).decode("utf-8", errors="replace")


def _loads(text: str, where: str) -> object:
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_bounded_int)
    except _JsonError as exc:
        raise ParseError(f"{where}: {exc}") from None
    except RecursionError:
        raise ParseError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int() of a huge literal
        raise ParseError(f"{where}: not JSON ({_short(exc)})") from None


def _reject_constant(name: str) -> object:
    raise _JsonError(f"{name} is not a JSON number")


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > _MAX_INT_DIGITS:
        raise _JsonError("number too large")
    return int(literal)


def _short(exc: ValueError) -> str:
    message = str(exc).split(":", 1)[0]
    return message[:60]


def _object(raw: object, where: str) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise ParseError(f"{where}: expected an object, got {_kind(raw)}")
    return raw


def _array(raw: object, where: str) -> list[object]:
    if not isinstance(raw, list):
        raise ParseError(f"{where}: expected an array, got {_kind(raw)}")
    return raw


def _count(raw: object, where: str) -> int:
    """A non-negative integer that fits SQLite."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ParseError(f"{where}: not an integer: {_excerpt(raw)}")
    if not 0 <= raw <= MAX_INT:
        raise ParseError(f"{where}: out of range: {_excerpt(raw)}")
    return raw


def _bool(raw: object, where: str) -> bool:
    if not isinstance(raw, bool):
        raise ParseError(f"{where}: not true/false: {_excerpt(raw)}")
    return raw


def _text(raw: object, where: str, limit: int) -> str:
    if not isinstance(raw, str):
        raise ParseError(f"{where}: expected text, got {_kind(raw)}")
    if len(raw) > limit:
        raise ParseError(f"{where}: text too long ({len(raw)} characters)")
    return _clean(raw)


def _clean(text: str) -> str:
    """Lone surrogates (from ``\\udXXX`` escapes) cannot be stored as UTF-8: ``?``."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


_KINDS: Final = ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "text"))
_KINDS_MORE: Final = ((list, "an array"), (dict, "an object"))


def _kind(raw: object) -> str:
    if raw is None:
        return "null"
    for kind, name in (*_KINDS, *_KINDS_MORE):
        if isinstance(raw, kind):
            return name
    return type(raw).__name__


def _excerpt(raw: object, limit: int = 40) -> str:
    """At most ``limit`` characters of the offending value, for an error message."""
    if isinstance(raw, bool) or raw is None or not isinstance(raw, int | str):
        return _kind(raw)
    if isinstance(raw, int):
        return str(raw) if raw.bit_length() <= 128 else "a huge number"
    return repr(_clean(raw[:limit])) + ("..." if len(raw) > limit else "")

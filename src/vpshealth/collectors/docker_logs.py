"""The answer of ``GET /containers/{id}/logs``, made into a few safe lines of text.

Without a TTY the engine multiplexes stdout and stderr: each frame is an 8-byte header (stream
type 0/1/2, three zero bytes, a big-endian 32-bit length) and its payload. With a TTY the body
is the raw terminal output. Frames come in the order the lines were written, so reading them in
sequence keeps stdout and stderr interleaved as they happened."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

LOG_LINES: Final = 30
"""How many lines are asked for (``tail``) and kept."""
LOG_BYTES: Final = 8 * 1024
"""The most text kept (UTF-8 bytes), newest lines first."""

_HEADER: Final = 8
_STREAMS: Final = frozenset({0, 1, 2})
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def demultiplex(body: bytes) -> bytes | None:
    """The payloads of a multiplexed body, in order; None when it is not one (a TTY's raw
    output), so that a body is never half read as frames and half as text."""
    payload = bytearray()
    at = 0
    while at < len(body):
        header = body[at : at + _HEADER]
        if len(header) < _HEADER or header[0] not in _STREAMS or header[1:4] != b"\0\0\0":
            return None
        size = int.from_bytes(header[4:8], "big")
        end = at + _HEADER + size
        if end > len(body):
            return None
        payload += body[at + _HEADER : end]
        at = end
    return bytes(payload)


def parse_logs(
    body: bytes, tty: bool | None = None, *, lines: int = LOG_LINES, max_bytes: int = LOG_BYTES
) -> str:
    """The last ``lines`` lines, at most ``max_bytes`` of UTF-8, as text: invalid UTF-8
    replaced, terminal colour codes and control characters other than tab removed, lines
    joined by newlines. ``tty`` None: told apart by the body itself."""
    raw = body if tty else demultiplex(body)
    if raw is None:
        raw = body
    text = _ANSI.sub("", raw.decode("utf-8", "replace").replace("\r\n", "\n"))
    found = [_CONTROL.sub("", line).rstrip() for line in text.split("\n")]
    while found and not found[-1]:
        found.pop()
    kept: list[str] = []
    used = 0
    for line in reversed(found[-lines:] if lines > 0 else []):
        size = len(line.encode()) + (1 if kept else 0)
        if used + size > max_bytes:
            room = max_bytes - used - (1 if kept else 0)
            if not kept and room > 0:
                kept.append(line.encode()[-room:].decode("utf-8", "ignore"))
            break
        kept.append(line)
        used += size
    return "\n".join(reversed(kept))


RUN_EDGE_NS: Final = 50_000_000
"""How far before ``StartedAt`` a run's lines are cut from the one before it (50 ms). Docker
sets ``StartedAt`` once the process runs, so a run's first line can carry a time a millisecond
or so before it (seen on 20.10); the restart policy waits at least 100 ms after an exit before
it starts the next run, so the runs' lines are further apart than this."""


def run_start(started_at: str) -> int | None:
    """Docker's ``State.StartedAt`` (RFC 3339 with nanoseconds) in Unix nanoseconds; None for
    the zero time or text that is not such a time."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)",
                         started_at)  # fmt: skip
    if match is None:
        return None
    stamp, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(stamp + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    seconds = int(moment.astimezone(UTC).timestamp())
    if seconds <= 0:
        return None
    return seconds * 1_000_000_000 + int((fraction or "").ljust(9, "0"))


def _api_time(nanoseconds: int) -> str:
    """The ``since``/``until`` value of the logs endpoint: ``seconds.nanoseconds``."""
    seconds, rest = divmod(nanoseconds, 1_000_000_000)
    return f"{seconds}.{rest:09d}"


_UP: Final = frozenset({"running", "paused"})


@dataclass(frozen=True, slots=True)
class LogRequest:
    """What to ask the engine for one container's last run: the path, and whether the answer
    is a TTY's raw output (None: not known, tell from the body)."""

    path: str
    tty: bool | None


def log_request(container_id: str, inspect_body: bytes | None, at: int) -> LogRequest:
    """The last run's lines of a container that crashed, was OOM-killed or loops, from its
    inspect data read just now. Still down (exited, restarting): the lines since just before
    its ``StartedAt``, so a restart loop shows only the run that ended, not the runs before it.
    Running again, started at or after the incident (``at``): the restart policy started a new
    run, so the lines until just before that start. Running since before ``at`` (a process
    OOM-killed inside it): the tail. Without inspect data: the tail. Never more than
    ``LOG_LINES`` lines."""
    base = f"/containers/{container_id}/logs?stdout=1&stderr=1&tail={LOG_LINES}&timestamps=0"
    state = _state(inspect_body)
    if state is None:
        return LogRequest(base, None)
    status, started, tty = state
    start = run_start(started) if started else None
    if start is None:
        return LogRequest(base, tty)
    edge = _api_time(start - RUN_EDGE_NS)
    if status not in _UP:
        return LogRequest(f"{base}&since={edge}", tty)
    if start // 1_000_000_000 >= at:
        return LogRequest(f"{base}&until={edge}", tty)
    return LogRequest(base, tty)


def _state(body: bytes | None) -> tuple[str, str, bool | None] | None:
    if body is None:
        return None
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    state, config = data.get("State"), data.get("Config")
    if not isinstance(state, dict):
        return None
    status, started = state.get("Status"), state.get("StartedAt")
    tty = config.get("Tty") if isinstance(config, dict) else None
    return (
        status if isinstance(status, str) else "",
        started if isinstance(started, str) else "",
        tty if isinstance(tty, bool) else None,
    )

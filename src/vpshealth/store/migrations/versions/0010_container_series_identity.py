"""Container series keyed by the app's identity instead of the container's name

A series ``container.cpu_percent:<container name>`` moves to
``container.cpu_percent:<identity>`` where the identity can be derived from the containers last
seen (their labels, read as the collector reads them): for the container itself, and for the
earlier deploys Coolify named after the same resource (``{uuid}-{time}``,
``{member}-{uuid}-{time}``). Several old series of one identity are merged: samples, staged
samples, chunks and rollups, without losing a value and without two rows of one time. Where two
containers have a value at the same time, the newer series' value is kept. Other series (a
standalone container, or one whose identity cannot be derived) stay as they are.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import json
import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import Connection

from vpshealth.collectors.docker_parsers import group_of
from vpshealth.domain.containers import ContainerGroup, GroupKind
from vpshealth.store import chunk_codec

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = ("container.cpu_percent", "container.memory_bytes")


def upgrade() -> None:
    conn = op.get_bind()
    hosts = [row[0] for row in conn.exec_driver_sql("SELECT DISTINCT host_id FROM series")]
    for host_id in hosts:
        naming = _Naming(_stored_groups(conn, host_id))
        for key in KEYS:
            prefix = key + ":"
            moves: dict[str, list[int]] = {}
            rows = conn.exec_driver_sql(
                "SELECT id, metric FROM series WHERE host_id = ? AND substr(metric, 1, ?) = ? "
                "ORDER BY id",
                (host_id, len(prefix), prefix),
            ).all()
            for series_id, metric in rows:
                identity = naming.identity(metric[len(prefix) :])
                if identity is not None:
                    moves.setdefault(prefix + identity, []).append(series_id)
            for metric, sources in moves.items():
                _merge_into(conn, host_id, metric, sources)


def downgrade() -> None:
    """Nothing to undo: an identity-keyed series is read as a container named so, and a
    merged series cannot be split again."""


def _stored_groups(conn: Connection, host_id: int) -> dict[str, ContainerGroup]:
    rows = conn.exec_driver_sql(
        "SELECT name, labels FROM containers WHERE host_id = ?", (host_id,)
    ).all()
    groups = {}
    for name, labels in rows:
        try:
            parsed = json.loads(labels)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            groups[name] = group_of({str(k): str(v) for k, v in parsed.items()}, name)
    return groups


class _Naming:
    """Container name -> identity: the containers last seen, and the names Coolify gives the
    other deploys of the same resource (a time of day in digits after the uuid)."""

    def __init__(self, groups: dict[str, ContainerGroup]) -> None:
        self._exact = {name: g.identity for name, g in groups.items() if g.identity}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for group in groups.values():
            identity = group.identity
            if identity is None or group.kind is not GroupKind.COOLIFY or not group.uuid:
                continue
            uuid = re.escape(group.uuid)
            if group.pull_request:
                pattern = f"{uuid}-pr-{group.pull_request}"
            elif group.member:
                pattern = f"{re.escape(group.member)}-{uuid}(-[0-9]+)?"
            else:
                pattern = f"{uuid}-[0-9]+"
            self._patterns.append((re.compile(pattern), identity))

    def identity(self, name: str) -> str | None:
        if name in self._exact:
            return self._exact[name]
        found = {identity for pattern, identity in self._patterns if pattern.fullmatch(name)}
        return found.pop() if len(found) == 1 else None


def _merge_into(conn: Connection, host_id: int, metric: str, sources: list[int]) -> None:
    """Rename the oldest source to ``metric`` (or merge into the series already named so) and
    fold the others into it, oldest first so that the newest value of a time is kept."""
    existing = conn.exec_driver_sql(
        "SELECT id FROM series WHERE host_id = ? AND metric = ?", (host_id, metric)
    ).scalar()
    if existing is None:
        target, rest = sources[0], sources[1:]
        conn.exec_driver_sql("UPDATE series SET metric = ? WHERE id = ?", (metric, target))
    else:
        target, rest = int(existing), sources
    for source in rest:
        for table in ("samples", "staged_samples"):
            conn.exec_driver_sql(
                f"INSERT OR REPLACE INTO {table} (series_id, ts, value) "  # noqa: S608
                f"SELECT ?, ts, value FROM {table} WHERE series_id = ?",
                (target, source),
            )
        _merge_chunks(conn, source, target)
        _merge_rollups(conn, source, target)
        for table in ("samples", "staged_samples", "sample_chunks", "rollups"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE series_id = ?", (source,))  # noqa: S608
        conn.exec_driver_sql("DELETE FROM series WHERE id = ?", (source,))
    if rest:
        _fold_raw_into_chunks(conn, target)


def _merge_chunks(conn: Connection, source: int, target: int) -> None:
    rows = conn.exec_driver_sql(
        "SELECT start_ts, codec, data FROM sample_chunks WHERE series_id = ?", (source,)
    ).all()
    for start_ts, codec, data in rows:
        other = conn.exec_driver_sql(
            "SELECT codec, data FROM sample_chunks WHERE series_id = ? AND start_ts = ?",
            (target, start_ts),
        ).first()
        if other is None:
            conn.exec_driver_sql(
                "UPDATE sample_chunks SET series_id = ? WHERE series_id = ? AND start_ts = ?",
                (target, source, start_ts),
            )
            continue
        points = dict(zip(*chunk_codec.decode(other[0], other[1]), strict=True))
        points.update(zip(*chunk_codec.decode(codec, data), strict=True))
        _write_chunk(conn, target, start_ts, points)


def _write_chunk(conn: Connection, series_id: int, start_ts: int, points: dict[int, float]) -> None:
    times = sorted(points)
    codec, blob = chunk_codec.encode(times, [points[ts] for ts in times])
    conn.exec_driver_sql(
        "INSERT OR REPLACE INTO sample_chunks (series_id, start_ts, end_ts, count, codec, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (series_id, start_ts, times[-1], len(times), codec, blob),
    )


def _fold_raw_into_chunks(conn: Connection, series_id: int) -> None:
    """A raw sample of a time a chunk also holds (one source compacted, the other not yet)
    goes into the chunk, so that the series has one value per time."""
    chunks = conn.exec_driver_sql(
        "SELECT start_ts, end_ts, codec, data FROM sample_chunks WHERE series_id = ?",
        (series_id,),
    ).all()
    for start_ts, end_ts, codec, data in chunks:
        raw: dict[int, float] = {}
        for table in ("samples", "staged_samples"):
            raw.update(
                conn.exec_driver_sql(
                    f"SELECT ts, value FROM {table} "  # noqa: S608
                    "WHERE series_id = ? AND ts BETWEEN ? AND ?",
                    (series_id, start_ts, end_ts),
                ).all()
            )
        if not raw:
            continue
        points = dict(zip(*chunk_codec.decode(codec, data), strict=True))
        points.update(raw)
        _write_chunk(conn, series_id, start_ts, points)
        for table in ("samples", "staged_samples"):
            conn.exec_driver_sql(
                f"DELETE FROM {table} WHERE series_id = ? AND ts BETWEEN ? AND ?",  # noqa: S608
                (series_id, start_ts, end_ts),
            )


def _merge_rollups(conn: Connection, source: int, target: int) -> None:
    rows = conn.exec_driver_sql(
        "SELECT resolution, start_ts, data FROM rollups WHERE series_id = ?", (source,)
    ).all()
    for resolution, start_ts, data in rows:
        other = conn.exec_driver_sql(
            "SELECT data FROM rollups WHERE series_id = ? AND resolution = ? AND start_ts = ?",
            (target, resolution, start_ts),
        ).scalar()
        if other is None:
            conn.exec_driver_sql(
                "UPDATE rollups SET series_id = ? "
                "WHERE series_id = ? AND resolution = ? AND start_ts = ?",
                (target, source, resolution, start_ts),
            )
            continue
        buckets = _buckets(other)
        for ts, (count, low, mean, high) in _buckets(data).items():
            if ts in buckets:
                c, lo, m, hi = buckets[ts]
                total = c + count
                buckets[ts] = (total, min(lo, low), (m * c + mean * count) / total, max(hi, high))
            else:
                buckets[ts] = (count, low, mean, high)
        times = sorted(buckets)
        counts, lows, means, highs = zip(*(buckets[ts] for ts in times), strict=True)
        blob = chunk_codec.encode_rollup(times, counts, lows, means, highs)
        conn.exec_driver_sql(
            "UPDATE rollups SET end_ts = ?, count = ?, data = ? "
            "WHERE series_id = ? AND resolution = ? AND start_ts = ?",
            (times[-1], len(times), blob, target, resolution, start_ts),
        )


def _buckets(blob: bytes) -> dict[int, tuple[int, float, float, float]]:
    times, counts, lows, means, highs = chunk_codec.decode_rollup(blob)
    return {
        ts: (count, low, mean, high)
        for ts, count, low, mean, high in zip(times, counts, lows, means, highs, strict=True)
    }

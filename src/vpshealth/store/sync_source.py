"""What a node sends a desktop that keeps a copy of it: a state snapshot (small tables whole,
incidents and events that changed) and history pages (compressed blocks, see ``sync_blocks``).
Each is read in one read transaction, so a snapshot is consistent with its ``live_seq``.
Blocking: call it off the event loop."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Table, or_, select

from vpshealth.store import chunk_codec, sync_blocks
from vpshealth.store.id_lists import one_of
from vpshealth.store.schema import (
    containers,
    events,
    host_status,
    hosts,
    incidents,
    notifications,
    rollups,
    rules,
    sample_chunks,
    series,
    settings,
    silences,
)
from vpshealth.store.staged_samples import read_staged

log = logging.getLogger(__name__)

NODE_ID_KEY = "node.id"
"""The node's identity: a uuid made once, kept in its settings. A copy that finds another one
starts anew (another node, or this node's database restored)."""
LOCAL_PREFIXES = ("node.", "sync.", "live.")
"""Settings that describe the database itself, never sent to a copy."""

FULL_TABLES: tuple[Table, ...] = (
    hosts,
    host_status,
    containers,
    series,
    rules,
    silences,
    settings,
)
"""Small tables whose every row is sent each time (rows gone on the node go from the copy)."""
SYNCED_TABLES: tuple[Table, ...] = (*FULL_TABLES, incidents, events, notifications)


@dataclass(frozen=True, slots=True)
class TableRows:
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    node_id: str
    now: int
    since: int | None
    live_seq: int
    events_after: int
    next_events_after: int
    more: bool
    tables: dict[str, TableRows]
    notifications_after: int = 0
    next_notifications_after: int = 0


def node_id(engine: Engine, now: int) -> str:
    """This database's node id, made on first use."""
    query = select(settings.c.value).where(settings.c.key == NODE_ID_KEY)
    with engine.connect() as conn:
        stored = conn.execute(query).scalar()
    if stored is not None:
        return str(json.loads(stored))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            (NODE_ID_KEY, json.dumps(str(uuid.uuid4())), now),
        )
        return str(json.loads(conn.execute(query).scalar_one()))


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection inside one read transaction: every query sees the same database."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            driver.rollback()


def table_rows(conn: Connection, table: Table, *where: Any) -> TableRows:
    columns = [c.name for c in table.columns]
    query = select(table).where(*where).order_by(*table.primary_key.columns)
    return TableRows(columns, [list(row) for row in conn.execute(query)])


class SyncSource:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def node_id(self, now: int) -> str:
        return node_id(self._engine, now)

    def state(
        self,
        now: int,
        since: int | None,
        events_after: int,
        limit: int,
        notifications_after: int = 0,
    ) -> StateSnapshot:
        """Every full table, incidents open or changed at or after ``since`` (all without it),
        and up to ``limit`` events with ids above ``events_after`` and as many notifications
        with ids above ``notifications_after``."""
        identity = self.node_id(now)
        with read_snapshot(self._engine) as conn:
            live_seq = conn.exec_driver_sql(
                "SELECT coalesce((SELECT max(seq) FROM live_log), "
                "(SELECT seq FROM sqlite_sequence WHERE name = 'live_log'), 0)"
            ).scalar_one()
            tables = {t.name: table_rows(conn, t) for t in FULL_TABLES if t is not settings}
            tables["settings"] = table_rows(
                conn, settings, *(~settings.c.key.startswith(p) for p in LOCAL_PREFIXES)
            )
            changed: list[Any] = []
            if since is not None:
                changed = [incidents.c.resolved_at.is_(None)] + [
                    column >= since
                    for column in (
                        incidents.c.opened_at,
                        incidents.c.resolved_at,
                        incidents.c.acknowledged_at,
                        incidents.c.last_notified_at,
                    )
                ]
            tables["incidents"] = table_rows(conn, incidents, or_(*changed) if changed else True)
            found = _page(conn, events, events_after, limit)
            told = _page(conn, notifications, notifications_after, limit)
        page, notes = found[:limit], told[:limit]
        tables["events"] = TableRows([c.name for c in events.columns], [list(row) for row in page])
        tables["notifications"] = TableRows(
            [c.name for c in notifications.columns], [list(row) for row in notes]
        )
        return StateSnapshot(
            node_id=identity,
            now=now,
            since=since,
            live_seq=int(live_seq),
            events_after=events_after,
            next_events_after=page[-1].id if page else events_after,
            more=len(found) > limit or len(told) > limit,
            tables=tables,
            notifications_after=notifications_after,
            next_notifications_after=notes[-1].id if notes else notifications_after,
        )

    def history(self, now: int, since: int, after_series: int, limit: int) -> bytes:
        """History of up to ``limit`` series with ids above ``after_series``: stored chunks
        that end after ``since`` as they are, raw rows from there on (from a sent chunk's
        start on, so that the copy can put rows and chunks side by side as the node has them),
        and rollup blocks whose last bucket ends after ``since``."""
        identity = self.node_id(now)
        with read_snapshot(self._engine) as conn:
            ids = list(
                conn.execute(
                    select(series.c.id)
                    .where(series.c.id > after_series)
                    .order_by(series.c.id)
                    .limit(limit + 1)
                ).scalars()
            )
            more = len(ids) > limit
            ids = ids[:limit]
            blocks = _history_blocks(conn, ids, since) if ids else []
        page = sync_blocks.HistoryPage(
            node_id=identity,
            now=now,
            since=since,
            after_series=after_series,
            next_after_series=ids[-1] if more else None,
            blocks=blocks,
        )
        return sync_blocks.encode(page)


def _page(conn: Connection, table: Table, after: int, limit: int) -> list[Any]:
    """Up to ``limit`` + 1 rows with ids above ``after``: one more says more are waiting."""
    query = select(table).where(table.c.id > after).order_by(table.c.id).limit(limit + 1)
    return list(conn.execute(query))


# The ids of a page go in as one JSON array parameter (as in compaction.py).
_RAW_ROWS = (
    "SELECT series_id, ts, value FROM samples "
    "WHERE series_id IN (SELECT value FROM json_each(?)) AND ts >= ? ORDER BY series_id, ts"
)


def _history_blocks(conn: Connection, ids: Sequence[int], since: int) -> list[sync_blocks.Block]:
    blocks: list[sync_blocks.Block] = []
    raw_from: dict[int, int] = {}
    chunks = conn.execute(
        select(sample_chunks)
        .where(one_of(sample_chunks.c.series_id, ids), sample_chunks.c.end_ts > since)
        .order_by(sample_chunks.c.series_id, sample_chunks.c.start_ts)
    )
    for row in chunks:
        raw_from.setdefault(row.series_id, row.start_ts)
        blocks.append(
            sync_blocks.ChunkBlock(
                row.series_id,
                row.start_ts,
                row.end_ts,
                row._mapping["count"],
                row.codec,
                bytes(row.data),
            )
        )
    lowest = min([since + 1, *raw_from.values()])
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    rows = driver.execute(_RAW_ROWS, (json.dumps(list(ids)), lowest)).fetchall()
    raw: dict[int, tuple[list[int], list[float]]] = {}
    for series_id, group in groupby(rows, key=itemgetter(0)):
        _, times, found = zip(*group, strict=True)
        raw[series_id] = (list(times), list(found))
    for series_id, staged in read_staged(conn, ids, lowest).items():
        merged = dict(zip(*raw.get(series_id, ([], [])), strict=True))
        merged.update(staged)  # a staged row and a moved one at the same time: the same sample
        raw[series_id] = (sorted(merged), [merged[ts] for ts in sorted(merged)])
    for series_id in sorted(raw):
        timestamps, values = raw[series_id]
        first = bisect_left(timestamps, min(since + 1, raw_from.get(series_id, since + 1)))
        blocks.extend(_raw_blocks(series_id, timestamps[first:], values[first:]))
    rolled = conn.execute(
        select(rollups)
        .where(one_of(rollups.c.series_id, ids), rollups.c.end_ts + rollups.c.resolution > since)
        .order_by(rollups.c.series_id, rollups.c.resolution, rollups.c.start_ts)
    )
    for row in rolled:
        blocks.append(
            sync_blocks.RollupBlock(
                row.series_id,
                row.resolution,
                row.start_ts,
                row.end_ts,
                row._mapping["count"],
                bytes(row.data),
            )
        )
    return blocks


def _raw_blocks(
    series_id: int, timestamps: list[int], values: list[float]
) -> Iterator[sync_blocks.RawBlock]:
    for start in range(0, len(timestamps), chunk_codec.MAX_SAMPLES):
        end = start + chunk_codec.MAX_SAMPLES
        try:
            codec, data = chunk_codec.encode(timestamps[start:end], values[start:end])
        except ValueError as exc:
            log.warning("Sync: left out samples of series %d: %s", series_id, exc)
            continue
        yield sync_blocks.RawBlock(series_id, codec, data)

"""The desktop's copy of a node's database: the same schema and the node's ids, written only
by applying the pages the node sends (``/api/v1/sync/state`` and ``/sync/history``).

Each page is applied in one transaction together with the cursor (settings ``sync.*``), so a
catch-up cut off anywhere resumes from the last page applied. Applying a page twice changes
nothing: rows are upserted by primary key, whole tables are replaced (rows gone on the node go
from the copy), history blocks are upserted by (series, start) and a chunk takes the place of
the raw rows inside it, as on the node. Blocking: call it off the event loop."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vpshealth.config import Paths
from vpshealth.store import chunk_codec
from vpshealth.store.database import open_database
from vpshealth.store.schema import (
    containers,
    events,
    host_status,
    hosts,
    incidents,
    notifications,
    rules,
    series,
    settings,
    silences,
    staged_samples,
)
from vpshealth.store.settings_repository import put_settings
from vpshealth.store.sync_blocks import ChunkBlock, HistoryPage, RawBlock, RollupBlock
from vpshealth.store.sync_source import FULL_TABLES

log = logging.getLogger(__name__)

CURSOR_PREFIX = "sync."
_KEYS = {
    "node_id": "sync.node_id",
    "live_seq": "sync.live_seq",
    "events_after": "sync.events_after",
    "notifications_after": "sync.notifications_after",
    "since": "sync.since",
    "history_since": "sync.history_since",
    "history_after_series": "sync.history_after_series",
    "synced_at": "sync.synced_at",
}
WATCH_KEYS = {
    "silent_since": "sync.silent_since",
    "problem": "sync.problem",
    "last_seq_seen": "sync.last_seq_seen",
}
"""What the follower last said of the node, for ``vpshealth node status`` in another
process."""
# Replaced by delete and insert: no other table refers to their rows.
_LEAF_TABLES = (host_status, containers, rules, silences)

_UPSERT_CHUNK = (
    "INSERT INTO sample_chunks (series_id, start_ts, end_ts, count, codec, data) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, start_ts) DO UPDATE SET "
    "end_ts = excluded.end_ts, count = excluded.count, codec = excluded.codec, "
    "data = excluded.data"
)
_DELETE_FOLDED = "DELETE FROM samples WHERE series_id = ? AND ts BETWEEN ? AND ?"
_UPSERT_SAMPLE = (
    "INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?) "
    "ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value"
)
_UPSERT_ROLLUP = (
    "INSERT INTO rollups (series_id, resolution, start_ts, end_ts, count, data) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, resolution, start_ts) DO UPDATE SET "
    "end_ts = excluded.end_ts, count = excluded.count, data = excluded.data"
)


def open_copy(paths: Paths) -> Engine:
    """The desktop's copy of its node (``Paths.node_copy_file``), created and migrated like
    any database of VPS Health (a copy taken before a migration goes to the backups)."""
    return open_database(paths.node_copy_file, backup_dir=paths.backup_dir)


class _CopyOnFirstUse:
    """An Engine that opens the copy when first used: reading the link does not create it."""

    def __init__(self, paths: Paths) -> None:
        self._paths = paths
        self._engine: Engine | None = None

    def __getattr__(self, name: str) -> Any:
        if self._engine is None:
            self._engine = open_copy(self._paths)
        return getattr(self._engine, name)


def copy_on_first_use(paths: Paths) -> Engine:
    """The local copy for repositories, opened (created, migrated) at their first query."""
    return cast(Engine, _CopyOnFirstUse(paths))


class SyncPageError(ValueError):
    """A page from the node that cannot be applied (not of the expected shape)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the copy is: the next catch-up asks from here."""

    node_id: str | None = None
    live_seq: int = 0
    events_after: int = 0
    notifications_after: int = 0
    since: int | None = None
    """Incidents changed at or after this (the node's clock at the last complete state)."""
    history_since: int | None = None
    """Samples after this are asked for (None: all history)."""
    history_after_series: int | None = None
    """While a history pass is paging: the last series id done."""
    synced_at: float | None = None
    """The desktop's clock when the last catch-up ended."""


@dataclass(frozen=True, slots=True)
class StatePage:
    node_id: str
    now: int
    live_seq: int
    next_events_after: int
    more: bool
    tables: Mapping[str, tuple[Sequence[str], Sequence[Sequence[Any]]]] = field(
        default_factory=dict
    )
    next_notifications_after: int | None = None
    """None: a node that does not send its notifications."""

    @classmethod
    def from_json(cls, body: Any) -> StatePage:
        try:
            tables = {
                str(name): (list(table["columns"]), list(table["rows"]))
                for name, table in body["tables"].items()
            }
            return cls(
                node_id=str(body["node"]["id"]),
                now=int(body["now"]),
                live_seq=int(body["live_seq"]),
                next_events_after=int(body["next_events_after"]),
                more=bool(body["more"]),
                tables=tables,
                next_notifications_after=_optional_int(body.get("next_notifications_after")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SyncPageError(f"the node's state page is not as expected: {exc!r}") from None


class Replica:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def cursor(self) -> Cursor:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(settings.c.key, settings.c.value).where(
                    settings.c.key.startswith(CURSOR_PREFIX)
                )
            )
            stored: dict[str, Any] = {row.key: json.loads(row.value) for row in rows}
        found: dict[str, Any] = {name: stored[key] for name, key in _KEYS.items() if key in stored}
        return Cursor(**found)

    def start_over(self, node_id: str, now: float) -> None:
        """Empty the copy and give it to the node ``node_id`` (another node than before, or
        the same one with its database restored)."""
        previous = self.cursor().node_id
        with self._engine.begin() as conn:
            conn.execute(delete(hosts))  # their series, samples, incidents, events go with them
            for table in (rules, silences, staged_samples, notifications, settings):
                conn.execute(delete(table))
            _put(conn, {"node_id": node_id}, now)
        if previous is not None:
            log.warning(
                "Sync: the node's id is %s, the copy's was %s (another node, or its database "
                "was restored): cleared the copy, catching up anew",
                node_id,
                previous,
            )

    def apply_state(self, page: StatePage, now: float, margin: int) -> None:
        """Apply one state page and move the cursor. On the last page (``more`` false) the
        next catch-up asks for incidents changed since the page's time less ``margin``."""
        with self._engine.begin() as conn:
            self._check_node(conn, page.node_id)
            rows = {name: _rows_of(name, page) for name in page.tables}
            for table in (hosts, series):
                if table.name in rows:
                    _replace_parent(conn, table, rows[table.name])
            for table in _LEAF_TABLES:
                if table.name in rows:
                    conn.execute(delete(table))
                    _insert(conn, table, rows[table.name])
            if "settings" in rows:
                conn.execute(delete(settings).where(~settings.c.key.startswith(CURSOR_PREFIX)))
                node_rows = [r for r in rows["settings"] if not r["key"].startswith(CURSOR_PREFIX)]
                _insert(conn, settings, node_rows)
            for table in (incidents, events):
                if table.name in rows:
                    _upsert(conn, table, rows[table.name])
            if "notifications" in rows:
                _upsert(conn, notifications, _referring_to_known(conn, rows["notifications"]))
            cursor: dict[str, Any] = {
                "live_seq": page.live_seq,
                "events_after": page.next_events_after,
            }
            if page.next_notifications_after is not None:
                cursor["notifications_after"] = page.next_notifications_after
            if not page.more:
                cursor["since"] = max(0, page.now - margin)
            _put(conn, cursor, now)

    def apply_history(self, page: HistoryPage, now: float, next_since: int) -> None:
        """Apply one history page and move the cursor; after the last page, the next pass
        asks for samples after ``next_since``."""
        with self._engine.begin() as conn:
            self._check_node(conn, page.node_id)
            known = set(conn.execute(select(series.c.id)).scalars())
            cursor = _driver_cursor(conn)
            chunks, raws, rolled = [], [], []
            for block in page.blocks:
                if block.series_id not in known:
                    continue  # gone from the node since its state was read, or newer than it
                if isinstance(block, ChunkBlock):
                    chunks.append(block)
                elif isinstance(block, RawBlock):
                    raws.append(block)
                else:
                    rolled.append(block)
            _write_chunks(cursor, chunks)
            _write_raw(cursor, raws)
            _write_rollups(cursor, rolled)
            if page.next_after_series is None:
                _put(
                    conn,
                    {"history_since": next_since, "history_after_series": None, "synced_at": now},
                    now,
                )
            else:
                _put(conn, {"history_after_series": page.next_after_series}, now)

    def record_watch(self, values: Mapping[str, Any], now: float) -> None:
        """Store what the follower says of the node (names of ``WATCH_KEYS``)."""
        with self._engine.begin() as conn:
            put_settings(conn, {WATCH_KEYS[name]: v for name, v in values.items()}, int(now))

    def _check_node(self, conn: Connection, node_id: str) -> None:
        stored = conn.execute(
            select(settings.c.value).where(settings.c.key == _KEYS["node_id"])
        ).scalar()
        if stored is None or json.loads(stored) != node_id:
            raise SyncPageError(
                f"the page is from node {node_id}, the copy belongs to "
                f"{'no node yet' if stored is None else json.loads(stored)}"
            )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _referring_to_known(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Notifications whose host or incident the copy does not have (gone on the node since)
    keep their text, without the reference."""
    known_hosts = set(conn.execute(select(hosts.c.id)).scalars())
    known_incidents = set(conn.execute(select(incidents.c.id)).scalars())
    kept = []
    for row in rows:
        note = dict(row)
        if note.get("host_id") is not None and note["host_id"] not in known_hosts:
            note["host_id"] = None
        if note.get("incident_id") is not None and note["incident_id"] not in known_incidents:
            note["incident_id"] = None
        kept.append(note)
    return kept


def _rows_of(name: str, page: StatePage) -> list[dict[str, Any]]:
    known_tables = (*FULL_TABLES, incidents, events, notifications)
    table = next((t for t in known_tables if t.name == name), None)
    if table is None:
        return []
    columns, rows = page.tables[name]
    known = [i for i, column in enumerate(columns) if column in table.c]
    try:
        return [{columns[i]: row[i] for i in known} for row in rows]
    except (IndexError, TypeError) as exc:
        raise SyncPageError(f"the node's table {name} is not as expected: {exc!r}") from None


def _primary_key(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _replace_parent(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Delete the rows the node no longer has (what refers to them goes with them), then
    upsert: rows that stay keep what refers to them."""
    keep = {row["id"] for row in rows}
    present = set(conn.execute(select(table.c.id)).scalars())
    gone = sorted(present - keep)
    for start in range(0, len(gone), 500):
        conn.execute(delete(table).where(table.c.id.in_(gone[start : start + 500])))
    if table is hosts:
        _park_renamed_hosts(conn, rows)
    _upsert(conn, table, rows)


def _park_renamed_hosts(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Names and Hetzner ids are unique: two hosts that swapped them on the node would clash
    row by row. Renamed hosts get a name no host can have (and no Hetzner id) first; the
    upsert then gives them theirs."""
    current = {
        row.id: (row.name, row.hetzner_project, row.hetzner_server_id)
        for row in conn.execute(
            select(hosts.c.id, hosts.c.name, hosts.c.hetzner_project, hosts.c.hetzner_server_id)
        )
    }
    moved = [
        row["id"]
        for row in rows
        if row["id"] in current
        and current[row["id"]]
        != (row.get("name"), row.get("hetzner_project"), row.get("hetzner_server_id"))
    ]
    for start in range(0, len(moved), 500):
        part = moved[start : start + 500]
        conn.execute(
            update(hosts)
            .where(hosts.c.id.in_(part))
            .values(name=func.printf("\x01renaming %d", hosts.c.id), hetzner_server_id=None)
        )


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = sqlite_insert(table)
    keys = _primary_key(table)
    others = [c for c in rows[0] if c not in keys]
    if others:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in others}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    conn.execute(statement, rows)


def _put(conn: Connection, values: Mapping[str, Any], now: float) -> None:
    put_settings(conn, {_KEYS[name]: value for name, value in values.items()}, int(now))


def _driver_cursor(conn: Connection) -> sqlite3.Cursor:
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver.cursor()


def _write_chunks(cursor: sqlite3.Cursor, blocks: Iterable[ChunkBlock]) -> None:
    rows = [(b.series_id, b.start_ts, b.end_ts, b.count, b.codec, b.data) for b in blocks]
    cursor.executemany(_UPSERT_CHUNK, rows)
    cursor.executemany(_DELETE_FOLDED, [(r[0], r[1], r[2]) for r in rows])


def _write_raw(cursor: sqlite3.Cursor, blocks: Iterable[RawBlock]) -> None:
    for block in blocks:
        try:
            timestamps, values = chunk_codec.decode(block.codec, block.data)
        except ValueError as exc:
            raise SyncPageError(f"raw samples of series {block.series_id}: {exc}") from None
        cursor.executemany(
            _UPSERT_SAMPLE,
            zip([block.series_id] * len(timestamps), timestamps, values, strict=True),
        )


def _write_rollups(cursor: sqlite3.Cursor, blocks: Iterable[RollupBlock]) -> None:
    rows = [(b.series_id, b.resolution, b.start_ts, b.end_ts, b.count, b.data) for b in blocks]
    cursor.executemany(_UPSERT_ROLLUP, rows)

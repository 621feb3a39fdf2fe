"""The newest raw samples, kept in time order until they are moved to their series.

A poll adds one sample to each of a host's series. Inserted straight into ``samples`` (keyed by
series, then time) every sample of a batch lands on another page, and once each series fills
pages of its own a one-second batch at 1,000 hosts rewrites about 1,300 pages: the cost per
sample grew from 7 to 26 µs through each hour (``bench/insert_growth.py``). So the writer
appends samples to ``staged_samples``, keyed by time (a batch fills a few pages at its end),
and every couple of minutes ``move_staged`` moves them into ``samples`` in series order, a dozen
samples per page at once, inside SQLite. Readers add the staged rows (``read_staged``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine

MOVE_SECONDS = 120.0
"""How often the results writer moves staged samples (about 13 per host per 10-s poll)."""
SERIES_PER_MOVE = 2000
"""Series per transaction of a move: keeps each transaction's share of the WAL small."""
SECONDS_LOOKED_UP = 3600
"""Up to this span, a read looks staged rows up second by second (a primary-key lookup each);
a longer span (the moves stopped for a while) is scanned instead."""

_INSERT = (
    "INSERT INTO staged_samples (series_id, ts, value) VALUES (?, ?, ?) "
    "ON CONFLICT (ts, series_id) DO NOTHING"
)
# A row already in ``samples`` wins, as it would had the sample been inserted there directly.
_MOVE = (
    "INSERT INTO samples (series_id, ts, value) "
    "SELECT series_id, ts, value FROM staged_samples WHERE series_id BETWEEN ? AND ? "
    "ORDER BY series_id, ts ON CONFLICT (series_id, ts) DO NOTHING"
)
# The series that have staged rows (not a range of ids: series of removed containers leave gaps).
_STAGED_SERIES = "SELECT DISTINCT series_id FROM staged_samples ORDER BY series_id"
_DELETE_MOVED = "DELETE FROM staged_samples WHERE series_id BETWEEN ? AND ?"
_SPAN = "SELECT (SELECT min(ts) FROM staged_samples), (SELECT max(ts) FROM staged_samples)"
_LOOK_UP = (
    "WITH RECURSIVE seconds(ts) AS (SELECT ? UNION ALL SELECT ts + 1 FROM seconds WHERE ts < ?) "
    "SELECT staged.series_id, staged.ts, staged.value "
    "FROM seconds CROSS JOIN staged_samples AS staged ON staged.ts = seconds.ts "
    "WHERE staged.series_id IN (SELECT value FROM json_each(?)) "
    "ORDER BY staged.series_id, staged.ts"
)
_SCAN = (
    "SELECT series_id, ts, value FROM staged_samples "
    "WHERE series_id IN (SELECT value FROM json_each(?)) AND ts BETWEEN ? AND ? "
    "ORDER BY series_id, ts"
)


def insert(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """(series_id, ts, value) rows, in one statement; a repeated (series, ts) is ignored."""
    if rows:
        conn.exec_driver_sql(_INSERT, list(rows))


def move_staged(engine: Engine) -> int:
    """Move every staged sample into ``samples``, ``SERIES_PER_MOVE`` series per transaction
    (each group's rows are inserted and deleted together, so readers see every sample once).
    Returns the number of rows moved."""
    with engine.connect() as conn:
        staged = [row[0] for row in conn.exec_driver_sql(_STAGED_SERIES)]
    moved = 0
    for start in range(0, len(staged), SERIES_PER_MOVE):
        group = staged[start : start + SERIES_PER_MOVE]
        with engine.begin() as conn:
            moved += max(conn.exec_driver_sql(_MOVE, (group[0], group[-1])).rowcount, 0)
            conn.exec_driver_sql(_DELETE_MOVED, (group[0], group[-1]))
    return moved


def read_staged(
    conn: Connection, series_ids: Sequence[int], since: int, until: int | None = None
) -> dict[int, list[tuple[int, float]]]:
    """Staged points with ``since <= ts <= until`` of each series, ordered by time."""
    first, last = conn.exec_driver_sql(_SPAN).one()
    if first is None or not series_ids:
        return {}
    since = max(since, int(first))
    until = int(last) if until is None else min(until, int(last))
    if since > until:
        return {}
    ids = json.dumps(list(series_ids))
    if until - since <= SECONDS_LOOKED_UP:
        found = conn.exec_driver_sql(_LOOK_UP, (since, until, ids))
    else:
        found = conn.exec_driver_sql(_SCAN, (ids, since, until))
    points: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for series_id, ts, value in found:
        points[series_id].append((ts, value))
    return points


def count_staged(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM staged_samples").scalar_one())


def oldest_staged(conn: Connection) -> int | None:
    first = conn.exec_driver_sql("SELECT min(ts) FROM staged_samples").scalar_one()
    return None if first is None else int(first)

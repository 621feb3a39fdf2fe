"""Comparing a desktop's copy with its node's database, row by row (sync tests and the
benchmark): samples decoded from chunks and raw rows alike, and the synced tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Table, select

from vpshealth.store.compaction import read_raw
from vpshealth.store.schema import (
    containers,
    events,
    host_status,
    hosts,
    incidents,
    notifications,
    rollups,
    rules,
    series,
    settings,
    silences,
)
from vpshealth.store.sync_source import LOCAL_PREFIXES

COMPARED: tuple[Table, ...] = (
    hosts, host_status, containers, series, rules, silences, incidents, events, notifications,
    rollups,
)  # fmt: skip


def samples_of(engine: Engine) -> set[tuple[int, int, float]]:
    """Every (series, ts, value), from chunks, raw and staged rows."""
    with engine.connect() as conn:
        ids = list(conn.execute(select(series.c.id)).scalars())
        points = read_raw(conn, ids, 0, 1 << 40)
    return {(sid, ts, value) for sid, found in points.items() for ts, value in found}


def rows_of(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        query = select(table).order_by(*table.primary_key.columns)
        return [tuple(row) for row in conn.execute(query)]


def node_settings(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(settings.c.key, settings.c.value))
        return {k: v for k, v in rows if not k.startswith(LOCAL_PREFIXES)}


def differences(node: Engine, copy: Engine) -> list[str]:
    """What differs, by table; empty when the copy equals the node."""
    found = []
    for table in COMPARED:
        theirs, ours = rows_of(node, table), rows_of(copy, table)
        if theirs != ours:
            missing = set(theirs) - set(ours)
            extra = set(ours) - set(theirs)
            found.append(
                f"{table.name}: {len(theirs)} rows on the node, {len(ours)} in the copy; "
                f"missing {sorted(missing, key=repr)[:3]}, extra {sorted(extra, key=repr)[:3]}"
            )
    if node_settings(node) != node_settings(copy):
        found.append("settings differ")
    theirs_points, ours_points = samples_of(node), samples_of(copy)
    if theirs_points != ours_points:
        found.append(
            f"samples: {len(theirs_points)} on the node, {len(ours_points)} in the copy; "
            f"missing {sorted(theirs_points - ours_points)[:3]}, "
            f"extra {sorted(ours_points - theirs_points)[:3]}"
        )
    return found

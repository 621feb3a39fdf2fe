"""Keeping the file bounded: pruning history past its retention, freeing pages, and
statistics for `vpshealth db stats`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, delete, exists, func, select

from vpshealth.config import Settings
from vpshealth.store import chunk_codec
from vpshealth.store.compaction import CHUNK_SECONDS
from vpshealth.store.id_lists import one_of
from vpshealth.store.rollups import HOUR, MINUTE, block_seconds, done_until
from vpshealth.store.schema import (
    checks,
    hosts,
    metadata,
    rollups,
    sample_chunks,
    samples,
    series,
    staged_samples,
)
from vpshealth.store.staged_samples import move_staged, oldest_staged

log = logging.getLogger(__name__)

PRUNE_BATCH_IDS = 50
EMPTY_SERIES_PER_STEP = 500
"""Series without any history left that one prune removes (see ``drop_empty_series``)."""
FREE_PAGES_PER_STEP = 2_000


@dataclass(frozen=True, slots=True)
class DatabaseStats:
    path: Path
    file_bytes: int
    wal_bytes: int
    free_pages: int
    page_size: int
    rows: dict[str, int]
    raw_samples: int
    chunked_samples: int
    oldest_raw: int | None
    oldest_chunk: int | None
    oldest_minute: int | None
    oldest_hour: int | None
    rollup_blocks: dict[int, int]


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Delete what lies before these times: raw samples, check rows, and whole rollup blocks
    whose every bucket is older than the cutoff of their resolution (None: keep)."""

    raw: int
    checks: int
    minute: int | None = None
    hour: int | None = None


def prune(
    engine: Engine,
    *,
    raw_before: int,
    checks_before: int,
    minute_before: int | None = None,
    hour_before: int | None = None,
) -> int:
    """Delete history older than the cutoffs, a few dozen series (or hosts) per transaction so
    readers are never held up for long; then remove the series left without any history and
    hand free pages back to the file system. Each delete of history is a range of a primary key
    or index, never a scan of a whole table (finding the empty series reads the series table
    once). Returns the number of rows deleted, series included."""
    cutoffs = Cutoffs(raw_before, checks_before, minute_before, hour_before)
    with engine.connect() as conn:
        series_ids = list(conn.execute(select(series.c.id).order_by(series.c.id)).scalars())
        host_ids = list(conn.execute(select(hosts.c.id).order_by(hosts.c.id)).scalars())
    deleted = 0
    for batch in _batches(series_ids):
        with engine.begin() as conn:
            deleted += _prune_series(conn, batch, cutoffs)
    for batch in _batches(host_ids):
        with engine.begin() as conn:
            deleted += _rowcount(
                conn.execute(
                    delete(checks).where(
                        one_of(checks.c.host_id, batch), checks.c.checked_at < cutoffs.checks
                    )
                )
            )
    dropped = drop_empty_series(engine)
    free_pages(engine)
    if deleted or dropped:
        log.info("Pruned %d old rows and %d series with no history left", deleted, dropped)
    return deleted + dropped


def drop_empty_series(engine: Engine, limit: int = EMPTY_SERIES_PER_STEP) -> int:
    """Remove series whose history has all passed its retention: those of containers that are
    gone (a re-deployed container often comes back under a new name) would otherwise stay in
    the file for good. Staged samples are moved first: they are stored by time, so deleting a
    series while many are staged would read all of them. Returns the series removed."""
    move_staged(engine)
    empty = (
        ~exists().where(samples.c.series_id == series.c.id)
        & ~exists().where(sample_chunks.c.series_id == series.c.id)
        & ~exists().where(rollups.c.series_id == series.c.id)
        & ~exists().where(staged_samples.c.series_id == series.c.id)
    )
    with engine.begin() as conn:
        ids = list(conn.execute(select(series.c.id).where(empty).limit(limit)).scalars())
        if not ids:
            return 0
        return _rowcount(conn.execute(delete(series).where(one_of(series.c.id, ids), empty)))


def _prune_series(conn: Connection, batch: list[int], cutoffs: Cutoffs) -> int:
    statements = [
        delete(sample_chunks).where(  # only hours that lie wholly before the cutoff
            one_of(sample_chunks.c.series_id, batch),
            sample_chunks.c.start_ts <= cutoffs.raw - CHUNK_SECONDS,
        ),
        delete(samples).where(one_of(samples.c.series_id, batch), samples.c.ts < cutoffs.raw),
    ]
    for resolution, cutoff in ((MINUTE, cutoffs.minute), (HOUR, cutoffs.hour)):
        if cutoff is not None:
            statements.append(
                delete(rollups).where(
                    one_of(rollups.c.series_id, batch),
                    rollups.c.resolution == resolution,
                    rollups.c.start_ts <= cutoff - block_seconds(resolution),
                )
            )
    return sum(_rowcount(conn.execute(statement)) for statement in statements)


def _rowcount(result: CursorResult[Any]) -> int:
    return max(result.rowcount or 0, 0)


def _batches(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + PRUNE_BATCH_IDS] for i in range(0, len(ids), PRUNE_BATCH_IDS)]


def free_pages(engine: Engine, max_pages: int = FREE_PAGES_PER_STEP) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA incremental_vacuum({int(max_pages)})")


def vacuum(engine: Engine) -> None:
    """Rewrite the whole file compactly (and switch it to incremental auto-vacuum)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA auto_vacuum = INCREMENTAL")
        conn.commit()
        conn.exec_driver_sql("VACUUM")


def stats(engine: Engine, path: Path) -> DatabaseStats:
    with engine.connect() as conn:
        rows = {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in sorted(metadata.tables.items())
        }
        chunked = conn.execute(select(func.coalesce(func.sum(sample_chunks.c.count), 0)))
        oldest_row = conn.execute(select(func.min(samples.c.ts))).scalar_one()
        oldest_raw = min(
            (ts for ts in (oldest_row, oldest_staged(conn)) if ts is not None), default=None
        )
        oldest_chunk = conn.execute(select(func.min(sample_chunks.c.start_ts))).scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        chunked_samples = int(chunked.scalar_one())
        oldest_minute = _oldest_bucket(conn, MINUTE)
        oldest_hour = _oldest_bucket(conn, HOUR)
        blocks = {
            int(resolution): int(n)
            for resolution, n in conn.execute(
                select(rollups.c.resolution, func.count()).group_by(rollups.c.resolution)
            )
        }
    wal = path.with_name(path.name + "-wal")
    return DatabaseStats(
        path=path,
        file_bytes=path.stat().st_size,
        wal_bytes=wal.stat().st_size if wal.exists() else 0,
        free_pages=int(free),
        page_size=int(page_size),
        rows=rows,
        raw_samples=rows["samples"] + rows["staged_samples"],
        chunked_samples=chunked_samples,
        oldest_raw=oldest_raw,
        oldest_chunk=oldest_chunk,
        oldest_minute=oldest_minute,
        oldest_hour=oldest_hour,
        rollup_blocks={MINUTE: blocks.get(MINUTE, 0), HOUR: blocks.get(HOUR, 0)},
    )


def _oldest_bucket(conn: Connection, resolution: int) -> int | None:
    """The start of the oldest stored bucket: the first bucket of the oldest blocks."""
    first_block = conn.execute(
        select(func.min(rollups.c.start_ts)).where(rollups.c.resolution == resolution)
    ).scalar_one()
    if first_block is None:
        return None
    oldest: int | None = None
    blobs = conn.execute(
        select(rollups.c.data).where(
            rollups.c.resolution == resolution, rollups.c.start_ts == first_block
        )
    ).scalars()
    for blob in blobs:
        try:
            first = chunk_codec.decode_rollup(blob)[0][0]
        except ValueError:
            continue
        oldest = first if oldest is None else min(oldest, first)
    return oldest


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each resolution is kept, in seconds. ``live_checks``: the live stream's check
    messages (its other messages are kept as long as the 1-hour history)."""

    raw: int = 48 * 3600
    minute: int = 30 * 86_400
    hour: int = 730 * 86_400
    live_checks: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(
            raw=int(settings.raw_retention_hours * 3600),
            minute=int(settings.minute_retention_days * 86_400),
            hour=int(settings.hour_retention_days * 86_400),
            live_checks=int(settings.live_check_retention_hours * 3600),
        )


def prune_history(engine: Engine, now: int, retention: Retention) -> int:
    """``prune`` with the cutoffs of a retention policy. Raw samples are kept until their
    1-minute buckets exist, and 1-minute buckets until their 1-hour buckets exist, however
    old they are."""
    raw_before = now - retention.raw
    minute_before = now - retention.minute
    minute_done = done_until(engine, MINUTE)
    hour_done = done_until(engine, HOUR)
    return prune(
        engine,
        raw_before=min(raw_before, minute_done if minute_done is not None else raw_before),
        checks_before=raw_before,
        minute_before=min(minute_before, hour_done if hour_done is not None else minute_before),
        hour_before=now - retention.hour,
    )

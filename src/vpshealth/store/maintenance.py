"""Keeping the file bounded: pruning raw history past its retention, freeing pages, and
statistics for `vpshealth db stats`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from vpshealth.store.schema import metadata, sample_chunks, samples

log = logging.getLogger(__name__)

PRUNE_BATCH_ROWS = 5_000
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


_PRUNE_STATEMENTS = (
    "DELETE FROM sample_chunks WHERE rowid IN "
    "(SELECT rowid FROM sample_chunks WHERE start_ts < :raw LIMIT :n)",
    "DELETE FROM samples WHERE (series_id, ts) IN "
    "(SELECT series_id, ts FROM samples WHERE ts < :raw LIMIT :n)",
    "DELETE FROM checks WHERE rowid IN "
    "(SELECT rowid FROM checks WHERE checked_at < :checks LIMIT :n)",
)


def prune(engine: Engine, *, raw_before: int, checks_before: int) -> int:
    """Delete history older than ``raw_before`` and check rows older than ``checks_before``,
    a few thousand rows per transaction so readers are never held up for long; then hand free
    pages back to the file system. Returns the number of rows deleted."""
    deleted = 0
    params = {"raw": raw_before, "checks": checks_before, "n": PRUNE_BATCH_ROWS}
    for statement in _PRUNE_STATEMENTS:
        while True:
            with engine.begin() as conn:
                count = conn.execute(text(statement), params).rowcount or 0
            deleted += count
            if count < PRUNE_BATCH_ROWS:
                break
    free_pages(engine)
    if deleted:
        log.info("Pruned %d old rows", deleted)
    return deleted


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
        oldest_raw = conn.execute(select(func.min(samples.c.ts))).scalar_one()
        oldest_chunk = conn.execute(select(func.min(sample_chunks.c.start_ts))).scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        chunked_samples = int(chunked.scalar_one())
    wal = path.with_name(path.name + "-wal")
    return DatabaseStats(
        path=path,
        file_bytes=path.stat().st_size,
        wal_bytes=wal.stat().st_size if wal.exists() else 0,
        free_pages=int(free),
        page_size=int(page_size),
        rows=rows,
        raw_samples=rows["samples"],
        chunked_samples=chunked_samples,
        oldest_raw=oldest_raw,
        oldest_chunk=oldest_chunk,
    )

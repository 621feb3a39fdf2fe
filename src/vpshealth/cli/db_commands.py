"""`vpshealth db stats | vacuum | backup PATH`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from vpshealth.cli import output
from vpshealth.cli.context import CliContext
from vpshealth.errors import EXIT_OK, InputError
from vpshealth.store.database import backup_to
from vpshealth.store.maintenance import DatabaseStats, stats, vacuum
from vpshealth.store.rollups import HOUR, MINUTE


def register(commands: argparse._SubParsersAction[Any]) -> None:
    db = commands.add_parser("db", help="database size, compaction and backups")
    sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    show = sub.add_parser(
        "stats",
        help="file size, rows per table, and the oldest history kept at each resolution "
        "(raw samples, 1-minute, 1-hour)",
    )
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_stats)
    compact = sub.add_parser(
        "vacuum", help="rewrite the file compactly (takes a while on a large file)"
    )
    compact.add_argument("--json", action="store_true", help="print JSON")
    compact.set_defaults(handler=run_vacuum)
    backup = sub.add_parser(
        "backup",
        help="write a consistent copy of the database, also while the service runs",
    )
    backup.add_argument("path", metavar="PATH", help="the new file (must not exist yet)")
    backup.add_argument("--json", action="store_true", help="print JSON")
    backup.set_defaults(handler=run_backup)


def show_stats(ctx: CliContext, args: argparse.Namespace) -> int:
    core = ctx.core
    s = stats(core.engine, ctx.paths.database)
    data = {
        "path": str(s.path),
        "file_bytes": s.file_bytes,
        "wal_bytes": s.wal_bytes,
        "free_bytes": s.free_pages * s.page_size,
        "rows": s.rows,
        "samples": {"raw": s.raw_samples, "in_chunks": s.chunked_samples},
        "rollup_blocks": {"1m": s.rollup_blocks[MINUTE], "1h": s.rollup_blocks[HOUR]},
        "oldest": {
            "raw": output.iso_time(_oldest_raw(s)),
            "1m": output.iso_time(s.oldest_minute),
            "1h": output.iso_time(s.oldest_hour),
        },
    }
    if args.json:
        output.print_json(data)
        return EXIT_OK
    lines = [
        f"Database:  {s.path}",
        f"Size:      {output.human_bytes(s.file_bytes)} (+ {output.human_bytes(s.wal_bytes)} "
        f"write-ahead log, {output.human_bytes(s.free_pages * s.page_size)} free)",
        f"Samples:   {s.raw_samples:,} recent rows + {s.chunked_samples:,} in hourly chunks",
        f"Rollups:   {s.rollup_blocks[MINUTE]:,} blocks of 1-minute and "
        f"{s.rollup_blocks[HOUR]:,} blocks of 1-hour min/avg/max",
        "Oldest:    "
        + ", ".join(
            f"{label} {output.iso_time(ts) or '-'}"
            for label, ts in (
                ("raw samples", _oldest_raw(s)),
                ("1-minute", s.oldest_minute),
                ("1-hour", s.oldest_hour),
            )
        ),
        "",
        output.table(["TABLE", "ROWS"], [[name, f"{n:,}"] for name, n in s.rows.items()]),
    ]
    print("\n".join(lines))
    return EXIT_OK


def _oldest_raw(s: DatabaseStats) -> int | None:
    known = [ts for ts in (s.oldest_raw, s.oldest_chunk) if ts is not None]
    return min(known, default=None)


def run_vacuum(ctx: CliContext, args: argparse.Namespace) -> int:
    core = ctx.core
    before = ctx.paths.database.stat().st_size
    vacuum(core.engine)
    after = ctx.paths.database.stat().st_size
    if args.json:
        output.print_json(
            {"path": str(ctx.paths.database), "bytes_before": before, "bytes_after": after}
        )
        return EXIT_OK
    print(
        f"Compacted {ctx.paths.database}: {output.human_bytes(before)} -> "
        f"{output.human_bytes(after)}."
    )
    return EXIT_OK


def run_backup(ctx: CliContext, args: argparse.Namespace) -> int:
    target = Path(args.path).expanduser().absolute()
    if not target.parent.is_dir():
        raise InputError(f"the folder {target.parent} does not exist. Nothing was written.")
    _claim(target)
    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    try:
        backup_to(ctx.core.engine, target, progress)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        if progress is not None:
            progress.done()
    size = target.stat().st_size
    if args.json:
        output.print_json({"path": str(target), "bytes": size})
        return EXIT_OK
    print(f"Wrote a consistent copy of the database to {target} ({output.human_bytes(size)}).")
    return EXIT_OK


def _claim(target: Path) -> None:
    """Create the target, failing if anything of that name exists: a file is never
    overwritten, even one that appears between a check and the write."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(
            f"{target} already exists; give a new file name. Nothing was written."
        ) from None
    except OSError as exc:
        raise InputError(f"cannot create {target}: {exc.strerror}. Nothing was written.") from None
    os.close(fd)


class _Progress:
    """``Copying the database: 42%`` on one line of the terminal, rewritten as it grows."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = -1

    def __call__(self, copied: int, total: int) -> None:
        percent = 100 * copied // total if total else 100
        if percent != self._shown:
            self._shown = percent
            self._stream.write(f"\rCopying the database: {percent}%")
            self._stream.flush()

    def done(self) -> None:
        if self._shown >= 0:
            self._stream.write("\n")
            self._stream.flush()

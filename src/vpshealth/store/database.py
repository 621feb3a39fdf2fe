"""Opening the SQLite file: permissions, pragmas, and migrations with a backup copy first."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from vpshealth.errors import ConfigurationError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
WAL_SIZE_LIMIT = 16 * 1024 * 1024
"""The write-ahead log is cut back to this after a checkpoint: otherwise it keeps the size of
the largest transaction ever written (a move of staged samples, a fold) on disk."""

PAGE_CACHE_KIB = 1024
"""SQLite's page cache per connection (its default is 2,000 KiB). The service keeps about three
connections open; what they read is mostly one pass over new rows, which a larger cache does
not speed up, while it does stay in memory (about 3 MB at 1,000 hosts)."""

SCHEMA_HEAD = "0013"
"""The newest migration. A file already at it opens without loading Alembic (about 11 MB of
memory the service would otherwise keep for nothing); a test keeps this equal to the head of
``migrations/versions``."""


def _alembic_config() -> Config:
    from alembic.config import Config  # noqa: PLC0415 - only when a migration may be needed

    config = Config()
    config.set_main_option("script_location", "vpshealth.store:migrations")
    return config


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Takes effect for a new file (before its first table) and after a full VACUUM.
    cursor.execute("PRAGMA auto_vacuum = INCREMENTAL")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
    cursor.close()


def _create_private_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def open_database(path: Path, *, backup_dir: Path | None = None) -> Engine:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    Before a migration touches an existing file, the file is copied into ``backup_dir``.
    """
    existed = path.exists() and path.stat().st_size > 0
    _create_private_file(path)
    # Last in, first out: the fewest connections stay in use, each with its own page cache.
    engine = create_engine(f"sqlite:///{path}", pool_use_lifo=True)
    event.listen(engine, "connect", _on_connect)
    backups = backup_dir if existed else None
    try:
        _migrate(engine, path, backups)
    except Exception as exc:
        engine.dispose()
        if isinstance(exc, ConfigurationError):
            raise
        where = f" A copy taken before the upgrade is in {backups}." if backups else ""
        raise ConfigurationError(
            f"The database {path} could not be opened or upgraded: {exc}.{where}"
        ) from exc
    return engine


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except OperationalError:
        return None
    return None if row is None else str(row[0])


def _migrate(engine: Engine, path: Path, backup_dir: Path | None) -> None:
    if _stored_revision(engine) == SCHEMA_HEAD:
        return
    # Alembic is loaded only here, when the file is new, older or newer.
    from alembic import command  # noqa: PLC0415
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    config = _alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return
    if current is not None and head is not None and not _is_known(config, current):
        raise ConfigurationError(
            f"The database {path} was written by a newer version of VPS Health "
            f"(schema {current}). Upgrade VPS Health to open it."
        )
    if backup_dir is not None:
        backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = backup_dir / f"{path.stem}.before-{head}.{int(time.time())}{path.suffix}"
        backup_to(engine, target)
        log.info("Copied the database to %s before upgrading its schema", target)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _is_known(config: Config, revision: str) -> bool:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except Exception:
        return False


BACKUP_STEP_PAGES = 1024
"""Pages copied between two ``progress`` calls of ``backup_to`` (4 MiB of 4 KiB pages)."""

BackupProgress = Callable[[int, int], None]
"""Called with the pages copied so far and the pages in all."""


def backup_to(engine: Engine, target: Path, progress: BackupProgress | None = None) -> None:
    """A consistent copy through SQLite's backup API, created private to the user. With
    ``progress``, the copy goes in steps inside one read transaction: the file is a WAL
    database, so what other processes write meanwhile neither enters the copy nor restarts it."""
    _create_private_file(target)
    raw = engine.raw_connection()
    try:
        source: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        destination = sqlite3.connect(target)
        try:
            if progress is None:
                source.backup(destination)
            else:
                _backup_in_steps(source, destination, progress)
        finally:
            destination.close()
    finally:
        raw.close()


def _backup_in_steps(
    source: sqlite3.Connection, destination: sqlite3.Connection, progress: BackupProgress
) -> None:
    source.execute("BEGIN")
    try:
        source.execute("SELECT count(*) FROM sqlite_master").fetchall()  # the snapshot starts
        source.backup(
            destination,
            pages=BACKUP_STEP_PAGES,
            progress=lambda _status, remaining, total: progress(total - remaining, total),
        )
    finally:
        source.rollback()


def open_reader(path: Path) -> Engine:
    """Another engine on a database already opened (and migrated) by ``open_database``: its
    own connections, for readers in other threads such as the API's."""
    engine = create_engine(f"sqlite:///{path}", pool_use_lifo=True)
    event.listen(engine, "connect", _on_connect)
    return engine

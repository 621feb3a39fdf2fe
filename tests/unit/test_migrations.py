from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vpshealth.store.database import open_database
from vpshealth.store.schema import metadata


def test_migrations_build_exactly_the_declared_schema(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "db.sqlite3")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn)
            assert compare_metadata(context, metadata) == []
            options = {
                row[0]: row[1]
                for row in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master")
            }
    finally:
        engine.dispose()
    assert "WITHOUT ROWID" in options["samples"]
    assert "WITHOUT ROWID" not in options["sample_chunks"]
    assert "AUTOINCREMENT" in options["hosts"]
    assert "AUTOINCREMENT" in options["series"]
    assert "AUTOINCREMENT" in options["incidents"]

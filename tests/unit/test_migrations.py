import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from vpshealth.store.database import SCHEMA_HEAD, _alembic_config, open_database
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
    assert "WITHOUT ROWID" in options["staged_samples"]
    assert "WITHOUT ROWID" not in options["sample_chunks"]
    assert "AUTOINCREMENT" in options["hosts"]
    assert "AUTOINCREMENT" in options["series"]
    assert "AUTOINCREMENT" in options["incidents"]


def test_schema_head_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == SCHEMA_HEAD


def test_an_up_to_date_file_opens_without_loading_alembic(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    open_database(path).dispose()
    script = (
        "import sys; from pathlib import Path; "
        "from vpshealth.store.database import open_database; "
        f"open_database(Path({str(path)!r})).dispose(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"

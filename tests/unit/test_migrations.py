import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine

from vpshealth.store.database import SCHEMA_HEAD, _alembic_config, open_database
from vpshealth.store.notification_queue import NotificationQueue
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


def _database_at(path: Path, revision: str) -> Engine:
    """A file migrated up to ``revision`` only, as an older version left it."""
    from alembic import command  # noqa: PLC0415

    engine = create_engine(f"sqlite:///{path}")
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return engine


def test_pending_and_queued_e_mails_of_an_old_file_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    old = _database_at(path, "0005")
    with old.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO outbox (id, channel, created_at, message_id, subject, body_text, "
            "recipients, next_attempt_at, status) "
            "VALUES (7, 'email', 10, '<a@example.com>', 's', 't', '[]', 10, 'pending')"
        )
        for notification_id, state, outbox_id in [
            (1, "queued", 7),
            (2, "pending", None),
            (3, "skipped", None),
            (4, "rate_limited", None),
        ]:
            conn.exec_driver_sql(
                "INSERT INTO notifications (id, host_id, kind, severity, created_at, payload, "
                "email_state, outbox_id) VALUES (?, NULL, 'opened', 'critical', 10, '{}', ?, ?)",
                (notification_id, state, outbox_id),
            )
    old.dispose()

    engine = open_database(path)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT channel, notification_id, state, outbox_id FROM notification_deliveries "
                "ORDER BY notification_id"
            ).all()
            columns = [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(notifications)")]
            ddl = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'notifications'"
            ).scalar_one()
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert [tuple(row) for row in rows] == [
            ("email", 1, "queued", 7),
            ("email", 2, "pending", None),
            ("email", 3, "skipped", None),
            ("email", 4, "rate_limited", None),
        ]
        assert "email_state" not in columns
        assert "outbox_id" not in columns
        assert "AUTOINCREMENT" in ddl
        assert NotificationQueue(engine, "email", since=10**10).states() == {
            1: "queued",
            2: "pending",
            3: "skipped",
            4: "rate_limited",
        }
    finally:
        engine.dispose()


def test_the_delivery_states_go_back_on_a_downgrade(tmp_path: Path) -> None:
    from alembic import command  # noqa: PLC0415

    path = tmp_path / "db.sqlite3"
    engine = open_database(path)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO notifications (id, kind, severity, created_at, payload) "
            "VALUES (1, 'opened', 'critical', 10, '{}'), (2, 'opened', 'critical', 10, '{}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO notification_deliveries (channel, notification_id, state) "
            "VALUES ('email', 1, 'pending'), ('other', 2, 'queued')"
        )
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    with engine.connect() as conn:
        states = conn.exec_driver_sql("SELECT id, email_state FROM notifications ORDER BY id").all()
    engine.dispose()
    assert [tuple(row) for row in states] == [(1, "pending"), (2, "skipped")]


def test_event_ids_are_never_reused_after_the_newest_go(tmp_path: Path) -> None:
    """They are the cursor of GET /api/v1/events?after=."""
    engine = open_database(tmp_path / "db.sqlite3")
    with engine.begin() as conn:
        host_id = conn.exec_driver_sql("SELECT min(id) FROM hosts").scalar_one()
        insert = "INSERT INTO events (host_id, at, kind, message) VALUES (?, 1, 'state', 'm')"
        conn.exec_driver_sql(insert, (host_id,))
        first = conn.exec_driver_sql("SELECT max(id) FROM events").scalar_one()
        conn.exec_driver_sql("DELETE FROM events")
        conn.exec_driver_sql(insert, (host_id,))
        second = conn.exec_driver_sql("SELECT max(id) FROM events").scalar_one()
    assert second > first

"""Batching pending notifications into outbox e-mails: the window, the minimum severity and
the per-server rate limit, claimed in one transaction."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.unit.email_helpers import T0, add_host, insert_notification, make_notification
from vpshealth.alerts.batcher import plan_claim
from vpshealth.alerts.email_settings import EmailConfig, build_config
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import NotificationKind
from vpshealth.store.database import open_database
from vpshealth.store.notification_queue import NotificationQueue
from vpshealth.store.outbox_repository import OutboxRepository, OutboxStatus
from vpshealth.store.schema import notifications


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


def config(**changes: object) -> EmailConfig:
    return build_config(
        {
            "smtp_host": "mail.example.com",
            "from": "vps@example.com",
            "to": ["me@example.com", "ops@example.com"],
            "batch_seconds": 60,
            **changes,
        }
    )


def claim(engine: Engine, now: int, cfg: EmailConfig | None = None) -> int | None:
    cfg = cfg or config()
    return NotificationQueue(engine).claim(now, functools.partial(plan_claim, config=cfg, now=now))


def test_nothing_goes_out_before_the_window_closes(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    first = insert_notification(engine, make_notification(at=T0), host_id=host)
    assert claim(engine, T0 + 59) is None
    assert NotificationQueue(engine).states()[first] == "pending"
    second = insert_notification(engine, make_notification(at=T0 + 30, subject="b"), host_id=host)
    outbox_id = claim(engine, T0 + 60)
    assert outbox_id is not None
    states = NotificationQueue(engine).states()
    assert (states[first], states[second]) == ("queued", "queued")
    with engine.connect() as conn:
        linked = conn.execute(select(notifications.c.outbox_id)).scalars().all()
    assert set(linked) == {outbox_id}


def test_one_outbox_row_holds_the_rendered_digest(engine: Engine) -> None:
    web = add_host(engine, "web-1")
    db = add_host(engine, "db-1", "203.0.113.20")
    insert_notification(engine, make_notification(), host_id=web)
    insert_notification(
        engine,
        make_notification(host_name="db-1", host_address="203.0.113.20", severity=Severity.WARNING),
        host_id=db,
    )
    insert_notification(engine, make_notification(kind=NotificationKind.RESOLVED), host_id=web)
    assert claim(engine, T0 + 60) is not None
    (message,) = OutboxRepository(engine).list()
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 0
    assert message.next_attempt_at == T0 + 60
    assert message.subject == "[VPS Health] CRITICAL: 2 problems, 1 resolved on 2 servers"
    assert message.recipients == ("me@example.com", "ops@example.com")
    assert message.message_id.startswith("<")
    assert message.message_id.endswith("@example.com>")
    assert "203.0.113.20" in message.body_text
    assert message.body_html is not None
    assert "203.0.113.20" in message.body_html


def test_below_the_minimum_severity_is_skipped_at_once(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    warning = insert_notification(
        engine, make_notification(severity=Severity.WARNING), host_id=host
    )
    critical = insert_notification(engine, make_notification(), host_id=host)
    assert claim(engine, T0 + 1, config(min_severity="critical")) is None
    states = NotificationQueue(engine).states()
    assert (states[warning], states[critical]) == ("skipped", "pending")


def test_the_rate_limit_holds_back_and_the_digest_says_so(engine: Engine) -> None:
    web = add_host(engine, "web-1")
    other = add_host(engine, "db-1")
    cfg = config(max_per_host_per_hour=2, batch_seconds=0)
    ids = [
        insert_notification(engine, make_notification(subject=f"s{i}", at=T0 + i), host_id=web)
        for i in range(3)
    ]
    free = insert_notification(engine, make_notification(host_name="db-1"), host_id=other)
    assert claim(engine, T0 + 10, cfg) is not None
    states = NotificationQueue(engine).states()
    assert [states[i] for i in ids] == ["queued", "queued", "rate_limited"]
    assert states[free] == "queued"
    (message,) = OutboxRepository(engine).list()
    assert "1 more notification about web-1 in the last hour was held back" in message.body_text

    # Within the same hour the limit still holds; the digest counts everything held back.
    later = insert_notification(engine, make_notification(at=T0 + 600), host_id=web)
    assert claim(engine, T0 + 600, cfg) is None
    assert NotificationQueue(engine).states()[later] == "rate_limited"

    # An hour after the first e-mails the server may send again.
    again = insert_notification(engine, make_notification(at=T0 + 3700), host_id=web)
    assert claim(engine, T0 + 3700, cfg) is not None
    assert NotificationQueue(engine).states()[again] == "queued"


def test_unreadable_payloads_are_skipped_not_stuck(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    good = insert_notification(engine, make_notification(), host_id=host)
    with engine.begin() as conn:
        conn.execute(
            notifications.insert().values(
                kind="opened",
                severity="critical",
                host_id=host,
                created_at=T0,
                payload=json.dumps({"kind": "nonsense"}),
                email_state="pending",
            )
        )
    assert claim(engine, T0 + 60) is not None
    states = NotificationQueue(engine).states()
    assert states[good] == "queued"
    assert sorted(states.values()) == ["queued", "skipped"]


def test_skip_pending_when_e_mail_is_not_set_up(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    item = insert_notification(engine, make_notification(), host_id=host)
    assert NotificationQueue(engine).skip_pending() == 1
    assert NotificationQueue(engine).states()[item] == "skipped"


def test_a_failing_render_leaves_everything_pending(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    item = insert_notification(engine, make_notification(), host_id=host)

    def broken(*_args: object) -> object:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        NotificationQueue(engine).claim(T0 + 60, broken)  # type: ignore[arg-type]
    assert NotificationQueue(engine).states()[item] == "pending"
    assert OutboxRepository(engine).list() == []

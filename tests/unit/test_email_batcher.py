"""Batching pending notifications into outbox e-mails: the window, the minimum severity and
the per-server rate limit, claimed in one transaction."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tests.unit.email_helpers import (
    T0,
    add_host,
    email_queue,
    insert_notification,
    make_notification,
)
from vpshealth.alerts.batcher import Render, plan_claim
from vpshealth.alerts.channel import Digest
from vpshealth.alerts.email_channel import EmailChannel
from vpshealth.alerts.email_settings import EmailConfig, build_config
from vpshealth.config import Settings
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import NotificationKind, at_least
from vpshealth.secrets import SecretStore
from vpshealth.store.database import open_database
from vpshealth.store.notification_queue import PendingNotification, RecentCounts
from vpshealth.store.outbox_repository import OutboxDraft, OutboxRepository, OutboxStatus
from vpshealth.store.schema import notification_deliveries, notifications


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


def render(engine: Engine, cfg: EmailConfig) -> Render:
    return functools.partial(EmailChannel(engine, Settings(), SecretStore()).render, cfg)


def claim(engine: Engine, now: int, cfg: EmailConfig | None = None) -> int | None:
    cfg = cfg or config()
    return email_queue(engine).claim(
        now, functools.partial(plan_claim, config=cfg, now=now, render=render(engine, cfg))
    )


def test_nothing_goes_out_before_the_window_closes(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    first = insert_notification(engine, make_notification(at=T0), host_id=host)
    assert claim(engine, T0 + 59) is None
    assert email_queue(engine).states()[first] == "pending"
    second = insert_notification(engine, make_notification(at=T0 + 30, subject="b"), host_id=host)
    outbox_id = claim(engine, T0 + 60)
    assert outbox_id is not None
    states = email_queue(engine).states()
    assert (states[first], states[second]) == ("queued", "queued")
    with engine.connect() as conn:
        linked = conn.execute(select(notification_deliveries.c.outbox_id)).scalars().all()
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
    states = email_queue(engine).states()
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
    states = email_queue(engine).states()
    assert [states[i] for i in ids] == ["queued", "queued", "rate_limited"]
    assert states[free] == "queued"
    (message,) = OutboxRepository(engine).list()
    assert "1 more notification about web-1 in the last hour was held back" in message.body_text

    # Within the same hour the limit still holds; the digest counts everything held back.
    later = insert_notification(engine, make_notification(at=T0 + 600), host_id=web)
    assert claim(engine, T0 + 600, cfg) is None
    assert email_queue(engine).states()[later] == "rate_limited"

    # An hour after the first e-mails the server may send again.
    again = insert_notification(engine, make_notification(at=T0 + 3700), host_id=web)
    assert claim(engine, T0 + 3700, cfg) is not None
    assert email_queue(engine).states()[again] == "queued"


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
            )
        )
    assert claim(engine, T0 + 60) is not None
    states = email_queue(engine).states()
    assert states[good] == "queued"
    assert sorted(states.values()) == ["queued", "skipped"]


def test_skip_pending_when_e_mail_is_not_set_up(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    item = insert_notification(engine, make_notification(), host_id=host)
    assert email_queue(engine).skip_pending() == 1
    assert email_queue(engine).states()[item] == "skipped"


def test_a_failing_render_leaves_everything_pending(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    item = insert_notification(engine, make_notification(), host_id=host)

    def broken(*_args: object) -> object:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        email_queue(engine).claim(T0 + 60, broken)  # type: ignore[arg-type]
    assert email_queue(engine).states()[item] == "pending"
    assert OutboxRepository(engine).list() == []


pending_rows = st.lists(
    st.tuples(
        st.sampled_from([None, 1, 2, 3]),  # host
        st.integers(min_value=0, max_value=300),  # seconds after T0
        st.sampled_from([Severity.WARNING, Severity.CRITICAL]),
        st.sampled_from(list(NotificationKind)),
    ),
    max_size=30,
)


@given(
    rows=pending_rows,
    already=st.dictionaries(st.sampled_from([1, 2, 3]), st.integers(0, 5)),
    limit=st.integers(1, 6),
    window=st.integers(0, 120),
    minimum=st.sampled_from(["warning", "critical"]),
    now=st.integers(min_value=0, max_value=600),
)
def test_every_notification_lands_in_exactly_one_place(
    rows: list[tuple[int | None, int, Severity, NotificationKind]],
    already: dict[int, int],
    limit: int,
    window: int,
    minimum: str,
    now: int,
) -> None:
    pending = [
        PendingNotification(
            id=i,
            host_id=host,
            created_at=T0 + at,
            notification=make_notification(
                host_name=f"h{host}", severity=severity, kind=kind, at=T0 + at
            ),
        )
        for i, (host, at, severity, kind) in enumerate(rows)
    ]
    cfg = config(max_per_host_per_hour=limit, batch_seconds=window, min_severity=minimum)
    digests: list[Digest] = []

    def render(digest: Digest) -> OutboxDraft:
        digests.append(digest)
        return OutboxDraft("any", "<id@example.com>", "subject", "text", None, ())

    plan = plan_claim(pending, RecentCounts(queued=already), cfg, T0 + now, render)
    assert [len(d.notifications) for d in digests] == ([len(plan.queued)] if plan.queued else [])
    placed = [*plan.queued, *plan.skipped, *plan.rate_limited]
    assert len(placed) == len(set(placed))
    by_id = {p.id: p for p in pending}
    for item_id in plan.skipped:
        assert not at_least(by_id[item_id].notification.severity, cfg.min_severity)
    if plan.queued or plan.rate_limited:
        # The window closed: everything at or above the minimum was placed.
        assert len(placed) == len(pending)
        assert min(by_id[i].created_at for i in [*plan.queued, *plan.rate_limited]) + window <= (
            T0 + now
        )
    else:
        assert plan.draft is None
    assert (plan.draft is None) == (not plan.queued)
    for host in (1, 2, 3):
        sent = sum(1 for i in plan.queued if by_id[i].host_id == host)
        assert sent <= max(limit - already.get(host, 0), 0)
        if any(by_id[i].host_id == host for i in plan.rate_limited):
            assert sent == max(limit - already.get(host, 0), 0)

"""The delivery worker with made-up channels: each channel has its own outbox messages and
delivery states, a failing channel retries without the others sending again, a channel new to
the database announces no backlog, and nothing generic names a particular channel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.unit.email_helpers import T0, add_host, insert_notification, make_notification
from tests.unit.fake_clock import FakeClock
from vpshealth.alerts import batcher, channel, delivery_worker
from vpshealth.alerts.channel import DeliveryError, Digest
from vpshealth.alerts.channels import build_delivery_workers
from vpshealth.alerts.delivery_worker import DeliveryWorker
from vpshealth.config import Settings
from vpshealth.domain.containers import Severity
from vpshealth.secrets import SecretStore
from vpshealth.store import notification_queue, outbox_repository
from vpshealth.store.database import open_database
from vpshealth.store.notification_queue import NotificationQueue
from vpshealth.store.outbox_repository import (
    OutboxDraft,
    OutboxMessage,
    OutboxRepository,
    OutboxStatus,
)


@dataclass(frozen=True, slots=True)
class ChatSettings:
    problem: str | None = None
    min_severity: Severity = Severity.WARNING
    batch_seconds: int = 0
    max_per_host_per_hour: int = 10


class ChatChannel:
    """A channel of its own kind: fails while ``down`` is set; records every attempt."""

    label = "chat message"

    def __init__(self, name: str, settings: ChatSettings | None = None) -> None:
        self.name = name
        self.settings = settings or ChatSettings()
        self.down = False
        self.attempts: list[int] = []
        self.delivered: list[int] = []

    def load_settings(self) -> ChatSettings:
        return self.settings

    def audience(self, settings: ChatSettings) -> str:
        return f"#{self.name}"

    def render(self, settings: ChatSettings, digest: Digest) -> OutboxDraft:
        titles = ", ".join(n.title for n in digest.notifications)
        return OutboxDraft(
            self.name, f"<{self.name}-{digest.now}-{titles}>", titles, titles, None, ()
        )

    async def deliver(self, settings: ChatSettings, message: OutboxMessage) -> str:
        self.attempts.append(message.id)
        if self.down:
            raise DeliveryError(f"{self.name} is down")
        self.delivered.append(message.id)
        return f"to #{self.name}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


async def test_a_failing_channel_retries_without_the_others_sending_again(engine: Engine) -> None:
    clock = FakeClock(T0)
    chat, pager = ChatChannel("chat"), ChatChannel("pager")
    workers = [DeliveryWorker(engine, c, clock) for c in (chat, pager)]
    host = add_host(engine, "web-1")
    item = insert_notification(engine, make_notification(at=T0), host_id=host)
    pager.down = True
    for _ in range(3):
        for worker in workers:
            await worker.step()
        clock.t += 31
    assert (len(chat.attempts), chat.delivered) == (1, chat.attempts[:1])
    assert len(pager.attempts) == 2
    assert pager.delivered == []

    pager.down = False
    clock.t += 3600
    for worker in workers:
        await worker.step()
    assert len(chat.attempts) == 1
    assert len(pager.delivered) == 1
    messages = OutboxRepository(engine).list()
    assert sorted((m.channel, m.status) for m in messages) == [
        ("chat", OutboxStatus.SENT),
        ("pager", OutboxStatus.SENT),
    ]
    for name in ("chat", "pager"):
        assert NotificationQueue(engine, name, since=0).states() == {item: "queued"}


async def test_each_channel_has_its_own_minimum_and_settings(engine: Engine) -> None:
    clock = FakeClock(T0)
    loud = ChatChannel("loud")
    picky = ChatChannel("picky", ChatSettings(min_severity=Severity.CRITICAL))
    off = ChatChannel("off", ChatSettings(problem="not set up"))
    host = add_host(engine, "web-1")
    item = insert_notification(
        engine, make_notification(at=T0, severity=Severity.WARNING), host_id=host
    )
    for c in (loud, picky, off):
        await DeliveryWorker(engine, c, clock).step()
    states = {
        c.name: NotificationQueue(engine, c.name, since=0).states()[item]
        for c in (loud, picky, off)
    }
    assert states == {"loud": "queued", "picky": "skipped", "off": "skipped"}
    assert (len(loud.delivered), picky.attempts, off.attempts) == (1, [], [])


async def test_a_channel_added_later_announces_no_backlog(engine: Engine) -> None:
    host = add_host(engine, "web-1")
    old = insert_notification(engine, make_notification(at=T0 - 3600), host_id=host)
    clock = FakeClock(T0)
    chat = ChatChannel("chat")
    worker = DeliveryWorker(engine, chat, clock, since=T0)
    await worker.step()
    assert chat.attempts == []
    new = insert_notification(engine, make_notification(at=T0 + 5, subject="b"), host_id=host)
    clock.t += 5
    await worker.step()
    assert len(chat.delivered) == 1
    states = NotificationQueue(engine, "chat", since=T0).states()
    assert old not in states
    assert states[new] == "queued"

    # After a restart, the channel goes on from its last notification, not from the clock.
    later = insert_notification(engine, make_notification(at=T0 + 6, subject="c"), host_id=host)
    clock.t += 3600
    await DeliveryWorker(engine, chat, clock, since=int(clock.now())).step()
    assert NotificationQueue(engine, "chat", since=0).states()[later] == "queued"


async def test_a_notification_raised_before_the_worker_started_is_delivered(
    engine: Engine,
) -> None:
    """The first notification of a new database, raised by a service that was killed before
    its worker claimed it, goes out after the restart."""
    host = add_host(engine, "web-1")
    raised = insert_notification(engine, make_notification(at=T0 - 60), host_id=host)
    chat = ChatChannel("chat")
    await DeliveryWorker(engine, chat, FakeClock(T0)).step()
    assert len(chat.delivered) == 1
    assert NotificationQueue(engine, "chat", since=0).states()[raised] == "queued"


def test_the_factory_builds_one_worker_per_channel(engine: Engine) -> None:
    workers = build_delivery_workers(engine, Settings(), SecretStore(), FakeClock(T0))
    names = [w.name for w in workers]
    assert "email" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "module", [channel, delivery_worker, batcher, notification_queue, outbox_repository]
)
def test_the_generic_delivery_code_names_no_channel(module: object) -> None:
    source = Path(str(getattr(module, "__file__", ""))).read_text("utf-8")
    assert not re.search(r"e-?mail|smtp", source, re.IGNORECASE)

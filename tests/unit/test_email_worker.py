"""The delivery worker with the e-mail channel on a virtual clock, with the SMTP send replaced
so that faults come on demand: backoff, one Message-ID for every attempt, giving up, and doing
nothing (cheaply) while e-mail is not configured. The real SMTP server is in tests/integration."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.unit.email_helpers import (
    T0,
    add_host,
    email_queue,
    insert_notification,
    make_notification,
)
from tests.unit.fake_clock import FakeClock
from vpshealth.alerts.delivery_worker import Backoff, DeliveryWorker
from vpshealth.alerts.email_channel import EmailChannel
from vpshealth.alerts.email_settings import EmailConfig
from vpshealth.alerts.outgoing_mail import OutgoingMessage, SmtpError
from vpshealth.config import Settings
from vpshealth.secrets import SecretStore
from vpshealth.store.database import open_database
from vpshealth.store.outbox_repository import OutboxRepository, OutboxStatus
from vpshealth.store.settings_repository import SettingsRepository


class FakeSend:
    """Fails while ``down`` is set, else accepts; records every attempt."""

    def __init__(self) -> None:
        self.down: SmtpError | None = None
        self.attempts: list[tuple[float, OutgoingMessage]] = []
        self.clock: FakeClock | None = None

    async def __call__(
        self,
        config: EmailConfig,
        password: str | None,
        context: ssl.SSLContext,
        outgoing: OutgoingMessage,
        *,
        timeout: float = 30,
    ) -> str:
        assert self.clock is not None
        self.attempts.append((self.clock.now(), outgoing))
        if self.down is not None:
            raise self.down
        return "250 OK"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


def configure(engine: Engine, **extra: object) -> None:
    SettingsRepository(engine).update(
        {
            "email.smtp_host": "mail.example.com",
            "email.from": "vps@example.com",
            "email.to": ["me@example.com"],
            "email.batch_seconds": 0,
            **{f"email.{k}": v for k, v in extra.items()},
        },
        now=T0,
    )


def worker(engine: Engine, clock: FakeClock, send: FakeSend) -> DeliveryWorker[EmailConfig]:
    send.clock = clock
    channel = EmailChannel(engine, Settings(), SecretStore(), send=send)
    return DeliveryWorker(engine, channel, clock, backoff=Backoff(30, 900, 24 * 3600))


def test_backoff_schedule() -> None:
    backoff = Backoff()
    assert [backoff.delay(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 900, 900, 900]
    assert not backoff.expired(T0, T0 + 24 * 3600 - 1)
    assert backoff.expired(T0, T0 + 24 * 3600)


@given(st.integers(min_value=1, max_value=10_000))
def test_backoff_grows_and_is_capped(attempts: int) -> None:
    backoff = Backoff()
    assert 30 <= backoff.delay(attempts) <= 900
    assert backoff.delay(attempts + 1) >= backoff.delay(attempts)


async def test_retries_with_backoff_and_the_same_message_id(engine: Engine) -> None:
    configure(engine)
    host = add_host(engine, "web-1")
    insert_notification(engine, make_notification(at=T0), host_id=host)
    clock = FakeClock(T0)
    send = FakeSend()
    send.down = SmtpError("could not connect to mail.example.com:587 (connection refused)")
    w = worker(engine, clock, send)
    # Step every 2 s for 8 minutes: attempts at +0, +30, +90, +210, +450.
    for _ in range(240):
        await w.step()
        clock.t += 2
    times = [int(t - T0) for t, _ in send.attempts]
    assert times == [0, 30, 90, 210, 450]
    (message,) = OutboxRepository(engine).list()
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 5
    assert message.last_error is not None
    assert "connection refused" in message.last_error

    send.down = None
    clock.t = message.next_attempt_at
    await w.step()
    await w.step()
    ids = {outgoing.message_id for _, outgoing in send.attempts}
    assert ids == {message.message_id}
    assert len(send.attempts) == 6
    (sent,) = OutboxRepository(engine).list()
    assert sent.status is OutboxStatus.SENT
    assert sent.sent_at == message.next_attempt_at


async def test_gives_up_after_a_day(engine: Engine) -> None:
    configure(engine)
    insert_notification(engine, make_notification(at=T0), host_id=add_host(engine, "web-1"))
    clock = FakeClock(T0)
    send = FakeSend()
    send.down = SmtpError("no answer")
    w = worker(engine, clock, send)
    await w.step()
    clock.t = T0 + 24 * 3600
    await w.step()
    (message,) = OutboxRepository(engine).list()
    assert message.status is OutboxStatus.FAILED
    clock.t += 3600
    await w.step()
    assert len(send.attempts) == 2


async def test_a_message_the_server_rejects_fails_at_once(engine: Engine) -> None:
    configure(engine)
    insert_notification(engine, make_notification(at=T0), host_id=add_host(engine, "web-1"))
    clock = FakeClock(T0)
    send = FakeSend()
    send.down = SmtpError("refused the recipient", permanent=True)
    await worker(engine, clock, send).step()
    (message,) = OutboxRepository(engine).list()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)


async def test_not_configured_skips_notifications_and_sends_nothing(engine: Engine) -> None:
    item = insert_notification(engine, make_notification(), host_id=add_host(engine, "web-1"))
    clock = FakeClock(T0)
    send = FakeSend()
    await worker(engine, clock, send).step()
    assert email_queue(engine).states()[item] == "skipped"
    assert OutboxRepository(engine).list() == []
    assert send.attempts == []


async def test_switched_off_keeps_queued_messages_for_later(engine: Engine) -> None:
    configure(engine)
    insert_notification(engine, make_notification(), host_id=add_host(engine, "web-1"))
    clock = FakeClock(T0)
    send = FakeSend()
    send.down = SmtpError("down")
    w = worker(engine, clock, send)
    await w.step()
    configure(engine, enabled=False)
    clock.t += 3600
    await w.step()
    assert len(send.attempts) == 1
    configure(engine, enabled=True)
    send.down = None
    await w.step()
    assert OutboxRepository(engine).list()[0].status is OutboxStatus.SENT


async def test_run_steps_until_cancelled(engine: Engine) -> None:
    configure(engine)
    host = add_host(engine, "web-1")
    clock = FakeClock(T0)
    send = FakeSend()
    w = worker(engine, clock, send)
    task = asyncio.create_task(w.run())
    insert_notification(engine, make_notification(at=T0), host_id=host)
    for _ in range(50):
        await clock.advance(2)
        await asyncio.sleep(0.01)
        if send.attempts:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(send.attempts) == 1


async def test_invalid_settings_are_logged_once_and_nothing_piles_up(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    configure(engine, security="none")  # for mail.example.com: refused
    host = add_host(engine, "web-1")
    first = insert_notification(engine, make_notification(), host_id=host)
    clock = FakeClock(T0)
    send = FakeSend()
    w = worker(engine, clock, send)
    with caplog.at_level("INFO", logger="vpshealth.alerts.delivery_worker"):
        await w.step()
        second = insert_notification(engine, make_notification(subject="b"), host_id=host)
        await w.step()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "invalid email.security: 'none'" in errors[0].getMessage()
    states = email_queue(engine).states()
    assert (states[first], states[second]) == ("skipped", "skipped")
    assert send.attempts == []

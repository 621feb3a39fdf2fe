"""The e-mail channel against a real SMTP server (aiosmtpd on loopback): plain, STARTTLS
with a private CA, implicit TLS, AUTH; credentials never in clear; each failure explained;
and the outbox delivering every message exactly once after the server was down."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.integration.support.smtp import SmtpServer, SmtpServerFactory
from tests.unit.email_helpers import T0, add_host, insert_notification, make_notification
from tests.unit.fake_clock import FakeClock
from vpshealth.alerts.delivery_worker import DeliveryWorker
from vpshealth.alerts.email_channel import EmailChannel
from vpshealth.alerts.email_settings import EmailConfig, build_config
from vpshealth.alerts.outgoing_mail import OutgoingMessage, SmtpError, tls_context
from vpshealth.alerts.smtp_sender import deliver
from vpshealth.config import Settings
from vpshealth.secrets import SecretStore
from vpshealth.store.database import open_database
from vpshealth.store.outbox_repository import OutboxRepository, OutboxStatus
from vpshealth.store.settings_repository import SettingsRepository

USER, PASSWORD = "alerts", "pa55-w0rd-not-in-clear"


def config_for(server: SmtpServer, **changes: object) -> EmailConfig:
    values: dict[str, object] = {
        "smtp_host": server.host,
        "smtp_port": server.port,
        "security": "none",
        "from": "vps@example.com",
        "to": ["me@example.com", "ops@example.com"],
        "ca_file": str(server.certs.ca_file),
    }
    values.update(changes)
    return build_config({k: v for k, v in values.items() if v is not None})


def outgoing(message_id: str = "<test-1@example.com>") -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id,
        subject="[VPS Health] CRITICAL web-1: restart loop of shop / production / web",
        text="plain body",
        html="<p>html body</p>",
        recipients=("me@example.com", "ops@example.com"),
        date=T0,
    )


async def send(config: EmailConfig, password: str | None = None) -> str:
    return await deliver(config, password, tls_context(config), outgoing(), timeout=10)


def secret_forms() -> list[bytes]:
    """The password as it would cross the wire with AUTH PLAIN or LOGIN."""
    return [
        PASSWORD.encode(),
        base64.b64encode(PASSWORD.encode()),
        base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()),
    ]


async def test_plain_delivery_to_a_server_on_this_computer(smtp_server: SmtpServerFactory) -> None:
    server = smtp_server()
    answer = await send(config_for(server))
    assert answer == "250 OK: queued as TEST1"
    (received,) = server.messages
    assert received.mail_from == "vps@example.com"
    assert received.recipients == ("me@example.com", "ops@example.com")
    message = received.message
    assert message["Message-ID"] == "<test-1@example.com>"
    assert message["Subject"].startswith("[VPS Health] CRITICAL web-1")
    assert message["From"] == "VPS Health <vps@example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().strip() == "plain body"
    assert html.get_content().strip() == "<p>html body</p>"


async def test_starttls_with_a_private_ca_and_login(smtp_server: SmtpServerFactory) -> None:
    server = smtp_server(require_starttls=True, credentials=(USER, PASSWORD))
    config = config_for(server, security="starttls", user=USER)
    assert (await send(config, PASSWORD)).startswith("250 ")
    assert len(server.messages) == 1
    assert server.recording.logins == [(USER, True)]
    clear = server.recording.clear_bytes()
    assert b"STARTTLS" in clear.upper()
    for form in secret_forms():
        assert form not in clear


async def test_implicit_tls(smtp_server: SmtpServerFactory) -> None:
    server = smtp_server(implicit_tls=True, credentials=(USER, PASSWORD))
    config = config_for(server, security="tls", user=USER)
    assert (await send(config, PASSWORD)).startswith("250 ")
    assert server.recording.logins == [(USER, True)]


async def test_credentials_never_go_out_in_clear_to_a_server_without_starttls(
    smtp_server: SmtpServerFactory,
) -> None:
    server = smtp_server()
    config = config_for(server, security="starttls", user=USER)
    with pytest.raises(SmtpError, match=r"127\.0\.0\.1:\d+ does not offer STARTTLS") as error:
        await send(config, PASSWORD)
    assert "--security tls" in str(error.value)
    assert server.messages == []
    assert server.recording.logins == []
    clear = server.recording.clear_bytes()
    assert b"AUTH" not in clear.upper()
    for form in secret_forms():
        assert form not in clear


async def test_a_server_requiring_starttls_refuses_unencrypted_mail(
    smtp_server: SmtpServerFactory,
) -> None:
    server = smtp_server(require_starttls=True, credentials=(USER, PASSWORD))
    with pytest.raises(SmtpError, match=r"requires encryption.*--security starttls"):
        await send(config_for(server))
    assert server.messages == []


async def test_an_untrusted_certificate_is_refused(smtp_server: SmtpServerFactory) -> None:
    server = smtp_server(starttls=True, credentials=(USER, PASSWORD))
    config = config_for(server, security="starttls", user=USER, ca_file=None)
    with pytest.raises(SmtpError, match=r"certificate of 127\.0\.0\.1:.* is not trusted") as error:
        await send(config, PASSWORD)
    assert "--ca-file" in str(error.value)
    assert server.recording.logins == []
    assert server.messages == []


async def test_a_wrong_password_is_explained(smtp_server: SmtpServerFactory) -> None:
    server = smtp_server(starttls=True, credentials=(USER, PASSWORD))
    config = config_for(server, security="starttls", user=USER)
    with pytest.raises(SmtpError, match=f"refused the login of {USER} \\(535") as error:
        await send(config, "wrong")
    assert "--password-prompt" in str(error.value)


async def test_connection_refused_is_explained(smtp_server: SmtpServerFactory) -> None:
    server = smtp_server()
    server.stop()
    with pytest.raises(SmtpError, match=r"could not connect to 127\.0\.0\.1:\d+ \(connection"):
        await send(config_for(server))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "db.sqlite3")
    yield engine
    engine.dispose()


async def test_outbox_delivers_each_message_exactly_once_after_the_server_was_down(
    smtp_server: SmtpServerFactory, engine: Engine
) -> None:
    server = smtp_server()
    SettingsRepository(engine).update(
        {
            "email.smtp_host": server.host,
            "email.smtp_port": server.port,
            "email.security": "none",
            "email.from": "vps@example.com",
            "email.to": ["me@example.com"],
            "email.batch_seconds": 60,
        },
        now=T0,
    )
    clock = FakeClock(T0)
    channel = EmailChannel(engine, Settings(), SecretStore(), timeout=10)
    worker = DeliveryWorker(engine, channel, clock)
    web = add_host(engine, "web-1")
    db = add_host(engine, "db-1", "203.0.113.20")
    server.stop()

    # Two batches a few minutes apart, while the server is down.
    insert_notification(engine, make_notification(at=T0), host_id=web)
    insert_notification(engine, make_notification(at=T0 + 10, host_name="db-1"), host_id=db)
    for _ in range(40):
        await worker.step()
        clock.t += 5
    insert_notification(engine, make_notification(at=int(clock.t), subject="x"), host_id=web)
    for _ in range(40):
        await worker.step()
        clock.t += 5
    queued = OutboxRepository(engine).list()
    assert len(queued) == 2
    assert all(m.status is OutboxStatus.PENDING and m.attempts >= 2 for m in queued)
    assert server.messages == []

    server.start()
    for _ in range(400):  # up to the 15-minute cap of the backoff, on the virtual clock
        await worker.step()
        clock.t += 5
    sent = OutboxRepository(engine).list()
    assert [m.status for m in sent] == [OutboxStatus.SENT, OutboxStatus.SENT]
    ids = sorted(r.message["Message-ID"] for r in server.messages)
    assert ids == sorted(m.message_id for m in sent)
    subjects = {r.message["Subject"] for r in server.messages}
    assert "[VPS Health] CRITICAL: 2 problems on 2 servers" in subjects


async def test_a_server_that_never_answers_times_out(hung_listener: int) -> None:
    config = build_config(
        {
            "smtp_host": "127.0.0.1",
            "smtp_port": hung_listener,
            "security": "none",
            "from": "vps@example.com",
            "to": ["me@example.com"],
        }
    )
    with pytest.raises(SmtpError, match=rf"no answer from 127\.0\.0\.1:{hung_listener} in time"):
        await deliver(config, None, tls_context(config), outgoing(), timeout=1)

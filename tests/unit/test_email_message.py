"""The MIME message built from an outbox row: the same headers on every attempt, both parts,
plain 7-bit ASCII on the wire whatever the text."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from tests.unit.email_helpers import T0, make_notification
from vpshealth.alerts.digest import render_digest
from vpshealth.alerts.email_settings import build_config
from vpshealth.alerts.outgoing_mail import OutgoingMessage
from vpshealth.alerts.smtp_sender import build_message

CONFIG = build_config(
    {"smtp_host": "mail.example.com", "from": "vps@example.com", "to": ["a@example.com"]}
)


def outgoing() -> OutgoingMessage:
    item = make_notification(app="café / prod / wéb", title="restart loop of café / prod / wéb")
    rendered = render_digest([item], T0)
    return OutgoingMessage(
        message_id="<abc@example.com>",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        recipients=("a@example.com", "b@example.com"),
        date=T0,
    )


def test_headers_come_from_the_outbox_row_and_stay_the_same() -> None:
    first = build_message(CONFIG, outgoing())
    again = build_message(CONFIG, outgoing())
    for header in ("Message-ID", "Date", "Subject", "From", "To"):
        assert first[header] == again[header]
    assert first["Message-ID"] == "<abc@example.com>"
    assert first["Date"] == "Fri, 15 Jan 2027 08:00:00 +0000"
    assert first["To"] == "a@example.com, b@example.com"


def test_non_ascii_text_is_encoded_for_any_server() -> None:
    data = build_message(CONFIG, outgoing()).as_bytes()
    assert data.isascii()
    assert b"\r\n" in data
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "[VPS Health] CRITICAL web-1: restart loop of café / prod / wéb"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert "café / prod / wéb" in plain.get_content()
    assert "café / prod / wéb" in html.get_content()

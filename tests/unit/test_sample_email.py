"""The one test e-mail that `vpshealth notify test` and the settings dialog send."""

from __future__ import annotations

from vpshealth.alerts.email_settings import build_config
from vpshealth.alerts.sample_email import sample_email

NOW = 1_800_000_000


def test_the_test_e_mail_goes_to_the_recipients_from_the_senders_domain() -> None:
    config = build_config(
        {"smtp_host": "mail.example.com", "from": "vps@example.org", "to": ["a@example.com"]}
    )
    message = sample_email(config, NOW)
    assert message.subject.startswith("[VPS Health] TEST ")
    assert message.recipients == ("a@example.com",)
    assert message.message_id.endswith("@example.org>")
    assert message.date == NOW
    assert "If you can read it, e-mail alerts work." in message.text
    assert message.html is not None
    assert sample_email(config, NOW).message_id != message.message_id

"""The test e-mail that `vpshealth notify test` and the settings dialog send: one test
notification from this computer, rendered as a digest."""

from __future__ import annotations

import socket
from email.utils import make_msgid

from vpshealth.alerts.digest import render_digest
from vpshealth.alerts.email_settings import EmailConfig
from vpshealth.alerts.outgoing_mail import OutgoingMessage
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind


def sample_notification(now: int) -> Notification:
    return Notification(
        kind=NotificationKind.TEST,
        severity=Severity.WARNING,
        host_name=socket.gethostname() or "this computer",
        host_address="this computer",
        rule="test",
        subject="test",
        title="test e-mail",
        message="This is a test e-mail from VPS Health. If you can read it, e-mail alerts work.",
        since=now,
        at=now,
    )


def sample_email(config: EmailConfig, now: int) -> OutgoingMessage:
    rendered = render_digest([sample_notification(now)], now)
    return OutgoingMessage(
        message_id=make_msgid(domain=config.sender_domain),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        recipients=config.recipients,
        date=now,
    )

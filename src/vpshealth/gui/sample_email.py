"""Sending a test e-mail with the stored settings, as `vpshealth notify test` does."""

from __future__ import annotations

import asyncio
import socket
from email.utils import make_msgid

from vpshealth.alerts.digest import render_digest
from vpshealth.alerts.email_settings import load_email_config, smtp_password
from vpshealth.alerts.outgoing_mail import OutgoingMessage, SmtpError, tls_context
from vpshealth.alerts.smtp_sender import deliver
from vpshealth.app import Core
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.errors import VpsHealthError


def _test_notification(now: int) -> Notification:
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


async def send_test_email(core: Core) -> tuple[bool, str]:
    """(sent, what to tell the user)."""
    config = await asyncio.to_thread(load_email_config, core.engine, core.settings)
    if config.problem:
        return False, f"E-mail is not ready: {config.problem}."
    now = int(core.clock.now())
    rendered = render_digest([_test_notification(now)], now)
    message = OutgoingMessage(
        message_id=make_msgid(domain=config.sender_domain),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        recipients=config.recipients,
        date=now,
    )
    try:
        password = await asyncio.to_thread(smtp_password, config, core.settings, core.secrets)
        answer = await deliver(config, password, tls_context(config), message)
    except (SmtpError, VpsHealthError) as exc:
        return False, f"The test e-mail was not sent: {exc}"
    return True, (
        f"Sent a test e-mail to {', '.join(config.recipients)} via {config.server}. "
        f"The server answered: {answer}"
    )

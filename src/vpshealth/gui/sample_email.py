"""Sending a test e-mail with the stored settings, as `vpshealth notify test` does."""

from __future__ import annotations

import asyncio

from vpshealth.alerts.email_settings import load_email_config, smtp_password
from vpshealth.alerts.outgoing_mail import SmtpError, tls_context
from vpshealth.alerts.sample_email import sample_email
from vpshealth.alerts.smtp_sender import deliver
from vpshealth.app import Core
from vpshealth.errors import VpsHealthError


async def send_test_email(core: Core) -> tuple[bool, str]:
    """(sent, what to tell the user)."""
    config = await asyncio.to_thread(load_email_config, core.engine, core.settings)
    if config.problem:
        return False, f"E-mail is not ready: {config.problem}."
    now = int(core.clock.now())
    message = sample_email(config, now)
    try:
        password = await asyncio.to_thread(smtp_password, config, core.settings, core.secrets)
        answer = await deliver(config, password, tls_context(config), message)
    except (SmtpError, VpsHealthError) as exc:
        return False, f"The test e-mail was not sent: {exc}"
    return True, (
        f"Sent a test e-mail to {', '.join(config.recipients)} via {config.server}. "
        f"The server answered: {answer}"
    )

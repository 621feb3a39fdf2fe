"""Sending one message to the configured SMTP server with aiosmtplib, and turning every way
that can fail into one line that names the server and says what to do.

Certificates are always verified (the system's CA store, plus ``ca_file`` when given). With
``starttls`` the connection is upgraded before anything else is said, and the send stops if
the server does not offer STARTTLS, so a password never travels in clear."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from vpshealth.alerts.email_settings import EmailConfig, Security
from vpshealth.alerts.outgoing_mail import DEFAULT_TIMEOUT, OutgoingMessage, SmtpError

QUIT_TIMEOUT = 5.0
# CRLF line ends; headers up to the hard limit of 998 characters, so that the standard library
# does not fold a subject such as "[VPS Health] ..." right after "Subject:" (which leaves a
# leading space in the subject many mail programs show). 7-bit: non-ASCII text is encoded, so
# the message needs no 8BITMIME from the server.
SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998, cte_type="7bit")
_HOW_TO_STORE = "store it again with `vpshealth notify email --password-prompt`"


def build_message(config: EmailConfig, outgoing: OutgoingMessage) -> EmailMessage:
    """The same headers on every attempt: Message-ID and Date come from the outbox row."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = f"VPS Health <{config.sender}>"
    message["To"] = ", ".join(outgoing.recipients)
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(datetime.fromtimestamp(outgoing.date, tz=UTC))
    message["Message-ID"] = outgoing.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Mailer"] = "VPS Health"
    message.set_content(outgoing.text)
    if outgoing.html is not None:
        message.add_alternative(outgoing.html, subtype="html")
    return message


async def deliver(
    config: EmailConfig,
    password: str | None,
    context: ssl.SSLContext,
    outgoing: OutgoingMessage,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Send one message; returns the server's answer to the message data, e.g.
    ``250 OK: queued as 1234``. Raises :class:`SmtpError`."""
    if config.user and password is None:
        raise SmtpError(
            f"no password for {config.user} at {config.server} in the OS keyring: {_HOW_TO_STORE}"
            f" (or set VPSHEALTH_SMTP_PASSWORD)"
        )
    message = build_message(config, outgoing)
    client = aiosmtplib.SMTP(
        hostname=config.smtp_host,
        port=config.smtp_port,
        use_tls=config.security is Security.TLS,
        start_tls=config.security is Security.STARTTLS,
        tls_context=context,
        timeout=timeout,
    )
    try:
        await client.connect()
        if config.user and password is not None:
            await client.login(config.user, password)
        assert config.sender is not None
        await client.mail(config.sender)
        await _recipients(client, outgoing.recipients)
        response = await client.data(message.as_bytes())
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        client.close()
        await asyncio.sleep(0)  # lets the socket finish closing before the caller moves on
        raise describe(exc, config) from None
    except BaseException:  # cancelled: drop the connection, do not wait for the server
        client.close()
        raise
    # Accepted: say goodbye briefly; a server slow to answer QUIT changes nothing.
    with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
        await client.quit(timeout=QUIT_TIMEOUT)
    client.close()
    return f"{response.code} {response.message}"


async def _recipients(client: aiosmtplib.SMTP, recipients: Sequence[str]) -> None:
    refused: list[aiosmtplib.SMTPRecipientRefused] = []
    for recipient in recipients:
        try:
            await client.rcpt(recipient)
        except aiosmtplib.SMTPRecipientRefused as exc:
            refused.append(exc)
    if refused:
        raise aiosmtplib.SMTPRecipientsRefused(refused)


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def describe(exc: BaseException, config: EmailConfig) -> SmtpError:
    """One line for each way a send fails, naming the server and what to do."""
    chain = _chain(exc)
    return (
        _tls_failure(chain, config.server)
        or _response_failure(exc, config)
        or _connection_failure(exc, chain, config.server)
    )


def _tls_failure(chain: list[BaseException], server: str) -> SmtpError | None:
    cert = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    if cert is not None:
        return SmtpError(
            f"the certificate of {server} is not trusted ({cert.verify_message}): use the "
            f"name the certificate was issued for as --smtp-host, or trust its CA with "
            f"--ca-file / VPSHEALTH_SMTP_CA_FILE"
        )
    tls = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if tls is not None:
        return SmtpError(
            f"TLS with {server} failed ({tls.reason or tls}): port 465 usually needs "
            f"--security tls and port 587 --security starttls"
        )
    return None


def _response_failure(exc: BaseException, config: EmailConfig) -> SmtpError | None:  # noqa: PLR0911
    server = config.server
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        first = exc.recipients[0]
        refused = ", ".join(r.recipient for r in exc.recipients)
        return SmtpError(
            f"{server} refused the recipient(s) {refused} ({first.code} {first.message}): "
            f"check --to",
            permanent=all(500 <= r.code < 600 for r in exc.recipients),
        )
    if not isinstance(exc, aiosmtplib.SMTPResponseException):
        return None
    answer = f"{exc.code} {exc.message}"
    if exc.code == 530 and "TLS" in exc.message.upper():
        return SmtpError(
            f"{server} requires encryption ({answer}): use --security starttls (or tls)"
        )
    if exc.code == 530:
        return SmtpError(f"{server} requires a login ({answer}): give --user and --password-prompt")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SmtpError(
            f"{server} refused the login of {config.user} ({answer}): check --user and the "
            f"password; {_HOW_TO_STORE}"
        )
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return SmtpError(
            f"{server} refused the sender {exc.sender} ({answer}): use a --from address this "
            f"account may send as"
        )
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return SmtpError(
            f"{server} rejected the message ({answer})", permanent=500 <= exc.code < 600
        )
    return SmtpError(f"{server} answered {answer}")


def _connection_failure(exc: BaseException, chain: list[BaseException], server: str) -> SmtpError:
    text = str(exc)
    if "STARTTLS extension not supported" in text:
        return SmtpError(
            f"{server} does not offer STARTTLS, and VPS Health sends neither passwords nor "
            f"mail unencrypted: use --security tls (usually port 465), or a server that "
            f"supports STARTTLS"
        )
    if "AUTH extension is not supported" in text:
        return SmtpError(
            f"{server} does not offer a login (AUTH): leave out --user, or use the server's "
            f"submission port (587 with starttls)"
        )
    if isinstance(exc, TimeoutError):
        return SmtpError(
            f"no answer from {server} in time: check --smtp-host, --smtp-port and any "
            f"firewall between here and the server"
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return SmtpError(
            f"could not connect to {server} (connection refused): check --smtp-host and "
            f"--smtp-port, and that the mail server is running"
        )
    reason = next((e for e in chain if isinstance(e, OSError) and e.strerror), None)
    detail = reason.strerror if reason is not None else (text or type(exc).__name__)
    return SmtpError(
        f"could not send through {server} ({detail}): check --smtp-host and --smtp-port, "
        f"and that the mail server is reachable"
    )

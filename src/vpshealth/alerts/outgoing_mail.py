"""One e-mail to send and the error a failed send raises: what the e-mail channel needs before
its first message, without the SMTP client (``smtp_sender`` loads aiosmtplib and the e-mail
package, about 1 MB the service only needs once e-mail is sent)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from vpshealth.alerts.channel import DeliveryError
from vpshealth.alerts.email_settings import EmailConfig

DEFAULT_TIMEOUT = 30.0


class SmtpError(DeliveryError):
    """A failed send; ``permanent`` when the server rejected this message itself."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: str
    subject: str
    text: str
    html: str | None
    recipients: tuple[str, ...]
    date: float


def tls_context(config: EmailConfig) -> ssl.SSLContext:
    """The system's trusted CAs, plus ``ca_file``. Blocking (reads files): call it in a
    thread from the event loop."""
    context = ssl.create_default_context()
    if config.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(config.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise SmtpError(
                f"cannot read the CA file {config.ca_file} ({exc}): give a PEM certificate "
                f"with --ca-file or VPSHEALTH_SMTP_CA_FILE"
            ) from None
    return context

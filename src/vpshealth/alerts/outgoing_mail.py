"""One e-mail to send and the error a failed send raises: what the e-mail worker needs before
its first message, without the SMTP client (``smtp_sender`` loads aiosmtplib and the e-mail
package, about 1 MB the service only needs once e-mail is sent)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from vpshealth.alerts.email_settings import EmailConfig

DEFAULT_TIMEOUT = 30.0


class SmtpError(Exception):
    """A failed send, described for the person reading the log or the terminal.
    ``permanent``: the server rejected this message itself; sending it again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


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

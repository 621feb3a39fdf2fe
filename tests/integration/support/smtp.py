"""A real SMTP server (aiosmtpd) on 127.0.0.1 in a thread, for the e-mail tests.

It records every message it accepts, every login attempt (and whether TLS was on at the
time), and every byte the client sent together with whether the connection was encrypted
when it arrived, so a test can prove that no credential ever crossed the wire in clear.
``stop()`` and ``start()`` keep the same port, for testing the outbox's retries.

aiosmtpd 1.4.6's ``Controller(port=0)`` binds a free port but then checks readiness by
connecting to port 0; :class:`_Controller` reads the bound port first.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recording:
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user, over TLS)
    wire: list[tuple[bool, bytes]] = field(default_factory=list)  # (encrypted, bytes)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear_bytes(self) -> bytes:
        with self.lock:
            return b"".join(data for encrypted, data in self.wire if not encrypted)


class _Handler:
    def __init__(self, recording: Recording) -> None:
        self._recording = recording

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert envelope.mail_from is not None
        assert isinstance(envelope.content, bytes)
        with self._recording.lock:
            self._recording.messages.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
            )
            number = len(self._recording.messages)
        return f"250 OK: queued as TEST{number}"


class _RecordingSmtp(SMTP):
    def __init__(
        self, handler: Any, recording: Recording, implicit_tls: bool, **kwargs: Any
    ) -> None:
        super().__init__(handler, **kwargs)
        self._recording = recording
        self._implicit_tls = implicit_tls

    def data_received(self, data: bytes) -> None:
        encrypted = self._implicit_tls or self._tls_protocol is not None
        with self._recording.lock:
            self._recording.wire.append((encrypted, bytes(data)))
        super().data_received(data)


class _Controller(Controller):
    def __init__(self, handler: Any, recording: Recording, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._recording = recording

    def factory(self) -> SMTP:
        implicit = self.ssl_context is not None
        return _RecordingSmtp(self.handler, self._recording, implicit, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        if self.port == 0:
            assert self.server is not None
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass(frozen=True)
class SmtpCertificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificates(folder: Path, names: tuple[str, ...] = ("localhost",)) -> SmtpCertificates:
    """A private CA and a server certificate for ``names`` and 127.0.0.1, signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "VPS Health test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    certs = SmtpCertificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    certs.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certs.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certs.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certs


class SmtpServer:
    """``starttls``: offer STARTTLS with the test certificate (``require_starttls``: refuse
    mail before it). ``implicit_tls``: TLS from the first byte. ``credentials``: offer AUTH
    (only over TLS, as aiosmtpd does by default) and accept only this user and password."""

    def __init__(
        self,
        certs: SmtpCertificates,
        *,
        starttls: bool = False,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.certs = certs
        self.recording = Recording()
        self._credentials = credentials
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": 0}
        if starttls or require_starttls:
            kwargs["tls_context"] = certs.server_context()
            kwargs["require_starttls"] = require_starttls
        if implicit_tls:
            kwargs["ssl_context"] = certs.server_context()
            kwargs["auth_require_tls"] = False  # the whole connection is TLS
        self._implicit_tls = implicit_tls
        if credentials is not None:
            kwargs["authenticator"] = self._authenticate
        self._kwargs = kwargs
        self._controller: _Controller | None = None
        self._port = 0

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._port

    @property
    def messages(self) -> list[Received]:
        with self.recording.lock:
            return list(self.recording.messages)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        user = data.login.decode()
        with self.recording.lock:
            self.recording.logins.append((user, self._implicit_tls or session.ssl is not None))
        ok = self._credentials == (user, data.password.decode())
        return AuthResult(success=ok, handled=False)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Start listening; again on the same port after a ``stop()`` (a stopped controller
        cannot be started again: its event loop is closed)."""
        if self._controller is not None:
            return
        controller = _Controller(
            _Handler(self.recording), self.recording, **{**self._kwargs, "port": self._port}
        )
        controller.start()
        self._controller = controller
        self._port = controller.port

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class SmtpServerFactory(Protocol):
    def __call__(
        self,
        *,
        starttls: bool = False,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        credentials: tuple[str, str] | None = None,
    ) -> SmtpServer: ...

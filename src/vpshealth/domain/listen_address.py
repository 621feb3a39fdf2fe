"""Where the node's API listens: ``HOST:PORT``, and whether that is loopback only."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})

PLAINTEXT_REFUSED = (
    "The API would listen on {host}, which other machines can reach, without TLS: its bearer "
    "tokens and everything it returns would cross the network in clear. Either keep it on "
    "loopback (the default, --api 127.0.0.1:{port}) and reach it over SSH, e.g. "
    "`ssh -N -L {port}:127.0.0.1:{port} user@this-server` from your desktop, or give it a "
    "certificate with --tls-cert FILE --tls-key FILE (VPSHEALTH_API_TLS_CERT / "
    "VPSHEALTH_API_TLS_KEY)."
)


class ListenAddressError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ListenAddress:
    host: str
    port: int
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_listen_address(
    text: str, tls_cert: Path | None = None, tls_key: Path | None = None
) -> ListenAddress:
    """``127.0.0.1:8765``, ``[::1]:8765`` or ``localhost:8765``; a reachable address only with
    both TLS files."""
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ListenAddressError(f"'{text}' is not HOST:PORT, e.g. 127.0.0.1:8765")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ListenAddressError(f"'{text}': write an IPv6 address in brackets, e.g. [::1]:8765")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ListenAddressError(f"'{text}': the port must be a number from 1 to 65535")
    if (tls_cert is None) != (tls_key is None):
        raise ListenAddressError("give both --tls-cert and --tls-key, or neither")
    address = ListenAddress(host, int(port_text), tls_cert, tls_key)
    if not address.loopback and not address.tls:
        raise ListenAddressError(PLAINTEXT_REFUSED.format(host=host, port=address.port))
    return address

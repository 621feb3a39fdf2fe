"""Trust on first use: the host key a server presents, and whether it may be pinned."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from vpshealth.collectors.errors import CollectionError
from vpshealth.collectors.ssh import fetch_host_key
from vpshealth.collectors.ssh_keys import public_line_of
from vpshealth.domain.hosts import check_fingerprint
from vpshealth.operations.errors import (
    NOTHING_SAVED,
    FieldError,
    HostKeyRejected,
    HostKeyUnconfirmed,
    HostUnreachable,
)
from vpshealth.operations.login_keys import same_public_key


@dataclass(frozen=True, slots=True)
class PresentedKey:
    line: str
    algorithm: str
    fingerprint: str


def where(address: str, port: int) -> str:
    return f"{address} port {port}" if port != 22 else address


def expected_fingerprint(text: str | None) -> str | None:
    """The fingerprint a user expects, checked (before anything is fetched)."""
    if text is None:
        return None
    try:
        return check_fingerprint(text.strip())
    except ValueError as exc:
        raise FieldError("host_key_fingerprint", str(exc)) from None


async def read_presented_key(
    name: str, address: str, port: int, timeout: float, pinned: str | None = None
) -> PresentedKey:
    """The key the server presents now; the ``pinned`` line's type is asked for first.
    Raises HostUnreachable."""
    try:
        key = await fetch_host_key(address, port, timeout, prefer=pinned)
    except CollectionError as exc:
        raise HostUnreachable(
            f"{name}: cannot read the host key: {exc.message}. {NOTHING_SAVED}",
            exc.problem,
            exc.message,
        ) from None
    return PresentedKey(
        public_line_of(key), key.get_algorithm(), str(key.get_fingerprint("sha256"))
    )


def fetch_presented_key(
    name: str, address: str, port: int, timeout: float, pinned: str | None = None
) -> PresentedKey:
    """Blocking, with an event loop of its own: call it from a worker thread when on one."""
    return asyncio.run(read_presented_key(name, address, port, timeout, pinned))


def accept(
    presented: PresentedKey,
    expected: str | None,
    pinned: str | None,
    *,
    name: str,
    address: str,
    port: int,
) -> str:
    """The key line to pin: the presented one when it has the ``expected`` fingerprint, the
    ``pinned`` line when the server still presents that key. Otherwise raises
    HostKeyUnconfirmed (to be confirmed by the user), HostKeyRejected (another key than
    expected) or FieldError (a malformed fingerprint)."""
    wanted = expected_fingerprint(expected)
    if wanted is not None:
        if presented.fingerprint.rstrip("=") != wanted:
            raise HostKeyRejected(
                f"{name}: the server at {where(address, port)} presented host key "
                f"{presented.fingerprint}, not the expected {wanted}. Nothing was saved; check "
                "the fingerprint on the server with "
                "`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`."
            )
        return presented.line
    if pinned is not None and same_public_key(presented.line, pinned):
        return pinned
    raise HostKeyUnconfirmed(
        name,
        address,
        port,
        algorithm=presented.algorithm,
        fingerprint=presented.fingerprint,
        line=presented.line,
        pinned=pinned,
    )


def trusted_key_line(
    name: str,
    address: str,
    port: int,
    *,
    timeout: float,
    expected: str | None = None,
    pinned: str | None = None,
) -> str:
    """Blocking: read the host key ``address`` presents and return the line to pin, as
    ``accept`` decides it."""
    presented = fetch_presented_key(name, address, port, timeout, pinned)
    return accept(presented, expected, pinned, name=name, address=address, port=port)

"""What a user types to reach a node: ``ssh://user@host[:port]`` or ``https://host[:port]
[/prefix]``. Pure: text in, a NodeAddress out, or an error naming the field."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from vpshealth.domain.hosts import check_address, check_user
from vpshealth.errors import InputError

DEFAULT_API_PORT: Final = 8765
"""The port of the node's API on its own loopback (`vpshealth service --api 127.0.0.1:8765`)."""
DEFAULT_SSH_PORT: Final = 22
EXAMPLES: Final = "ssh://root@node.example.com or https://node.example.com"


class NodeScheme(StrEnum):
    SSH = "ssh"
    HTTPS = "https"
    HTTP = "http"
    """Only to a loopback address: the token would otherwise cross the network in clear."""


class NodeAddressError(InputError):
    """``field`` is the part of the address at fault: address, scheme, user, host, port,
    path, api_port."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.problem = message
        label = "--api-port" if field == "api_port" else "node address"
        super().__init__(f"invalid {label}: {message} Nothing was saved.")


@dataclass(frozen=True, slots=True)
class NodeAddress:
    scheme: NodeScheme
    host: str
    port: int
    user: str | None = None
    """The SSH login (ssh:// only)."""
    prefix: str = ""
    """The path the API sits under behind a reverse proxy (https:// only), without a final /."""
    api_port: int = DEFAULT_API_PORT
    """The API's port on the node's loopback (ssh:// only)."""

    @property
    def is_ssh(self) -> bool:
        return self.scheme is NodeScheme.SSH

    @property
    def host_text(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def text(self) -> str:
        """The address as the user would type it, canonical."""
        default = (
            DEFAULT_SSH_PORT if self.is_ssh else 443 if self.scheme is NodeScheme.HTTPS else 80
        )
        port = "" if self.port == default else f":{self.port}"
        user = f"{self.user}@" if self.user else ""
        return f"{self.scheme.value}://{user}{self.host_text}{port}{self.prefix}"

    @property
    def api_url(self) -> str:
        """The API's base URL for https:// and http:// (an ssh:// node's is the tunnel's)."""
        port = (
            "" if self.port in (443, 80) and self.scheme is not NodeScheme.SSH else f":{self.port}"
        )
        return f"{self.scheme.value}://{self.host_text}{port}{self.prefix}"

    @property
    def how(self) -> str:
        """How the node is reached, for status lines: ssh, https or http."""
        return self.scheme.value


def parse_node_address(text: str, api_port: int | None = None) -> NodeAddress:
    """Raises NodeAddressError naming the field and saying what to type."""
    if not isinstance(text, str) or not text.strip():
        raise NodeAddressError("address", f"give the node's address, e.g. {EXAMPLES}.")
    text = text.strip()
    if any(not c.isprintable() or c.isspace() for c in text):
        raise NodeAddressError(
            "address", f"the node address contains a space or a control character; e.g. {EXAMPLES}."
        )
    scheme_text, sep, rest = text.partition("://")
    if not sep:
        raise NodeAddressError(
            "scheme",
            f"{text!r} has no scheme: write ssh://{text if '@' in text else 'USER@' + text} "
            f"(through SSH) or https://{text.rpartition('@')[2]}.",
        )
    try:
        scheme = NodeScheme(scheme_text.lower())
    except ValueError:
        raise NodeAddressError(
            "scheme",
            f"{scheme_text!r} is not a way to reach a node: use ssh:// or https://, e.g. "
            f"{EXAMPLES}.",
        ) from None
    if scheme is NodeScheme.SSH:
        return _ssh_address(rest, api_port)
    if api_port is not None:
        raise NodeAddressError(
            "api_port",
            "--api-port is for ssh:// addresses; with https:// put the port in the URL, "
            "e.g. https://node.example.com:8443.",
        )
    return _web_address(scheme, rest)


def _ssh_address(rest: str, api_port: int | None) -> NodeAddress:
    if "/" in rest or "?" in rest or "#" in rest:
        raise NodeAddressError(
            "path", "an ssh:// address has no path: write ssh://user@host or ssh://user@host:2222."
        )
    user, at, hostport = rest.rpartition("@")
    if not at or not user:
        raise NodeAddressError(
            "user",
            f"say whom to log in as: ssh://root@{hostport or 'node.example.com'}.",
        )
    try:
        check_user(user)
    except ValueError as exc:
        raise NodeAddressError("user", f"the user {user!r}: {exc}.") from None
    host, port = _host_and_port(hostport, DEFAULT_SSH_PORT)
    return NodeAddress(NodeScheme.SSH, host, port, user=user, api_port=_api_port(api_port))


def _web_address(scheme: NodeScheme, rest: str) -> NodeAddress:
    if "?" in rest or "#" in rest:
        raise NodeAddressError(
            "path", "leave out the ?query and #fragment: give the node's base URL."
        )
    hostport, slash, path = rest.partition("/")
    if "@" in hostport:
        raise NodeAddressError(
            "user",
            "an https:// address carries no user or password: the token is given with "
            "--token-stdin.",
        )
    default = 443 if scheme is NodeScheme.HTTPS else 80
    host, port = _host_and_port(hostport, default)
    prefix = ("/" + path).rstrip("/") if slash else ""
    if any(part in (".", "..") for part in prefix.split("/")[1:]) or "//" in prefix:
        raise NodeAddressError(
            "path", f"the path {prefix!r} is not a plain prefix such as /vpshealth."
        )
    if scheme is NodeScheme.HTTP and not _is_loopback(host):
        raise NodeAddressError(
            "scheme",
            f"http:// to {host} would send the token across the network in clear: use "
            f"https://{hostport}{prefix} (with a TLS certificate on the node) or reach it "
            f"through SSH with ssh://USER@{host}. http:// is only for 127.0.0.1.",
        )
    return NodeAddress(scheme, host, port, prefix=prefix)


def _host_and_port(hostport: str, default: int) -> tuple[str, int]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise NodeAddressError(
                "host", "an IPv6 address needs its closing ]: e.g. [2001:db8::1]."
            )
        host, tail = hostport[1:end], hostport[end + 1 :]
        if tail and not tail.startswith(":"):
            raise NodeAddressError("port", f"after ]{tail}: write the port as [{host}]:2222.")
        port_text = tail[1:] if tail else None
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise NodeAddressError("host", f"[{host}] is not an IPv6 address.") from None
    else:
        host, colon, port_text_found = hostport.partition(":")
        if ":" in port_text_found:
            raise NodeAddressError(
                "host", "put an IPv6 address in brackets: e.g. ssh://root@[2001:db8::1]:22."
            )
        port_text = port_text_found if colon else None
    if not host:
        raise NodeAddressError(
            "host", f"the node's host name or address is missing; e.g. {EXAMPLES}."
        )
    try:
        host = check_address(host)
    except ValueError as exc:
        raise NodeAddressError("host", f"the host {host!r}: {exc}.") from None
    return host, default if port_text is None else _port("port", port_text)


def _port(field: str, text: str) -> int:
    if not text.isdigit() or not text.isascii() or not 1 <= int(text) <= 65535:
        raise NodeAddressError(field, f"the port {text!r} is not a number from 1 to 65535.")
    return int(text)


def _api_port(value: int | None) -> int:
    if value is None:
        return DEFAULT_API_PORT
    if not 1 <= value <= 65535:
        raise NodeAddressError("api_port", f"--api-port {value} is not a port from 1 to 65535.")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

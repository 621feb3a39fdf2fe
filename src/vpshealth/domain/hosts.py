"""A monitored host and the rules its fields must satisfy."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

LOCAL_HOST_NAME: Final = "localhost"
LOCAL_HOST_LABEL: Final = "This computer"
DEFAULT_INTERVAL_SECONDS: Final = 15
MIN_INTERVAL_SECONDS: Final = 5
MAX_INTERVAL_SECONDS: Final = 3600

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}")
_SOCKET_PATH = re.compile(r"/[A-Za-z0-9._/-]{1,200}")
_FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}=?")
_SHELL_META = set(";&|`$<>()\\\"'*?[]{}!#~ \t")


class HostKind(StrEnum):
    SSH = "ssh"
    LOCAL = "local"


class AuthMethod(StrEnum):
    KEY = "key"
    AGENT = "agent"
    NONE = "none"


def _reject_unsafe(value: str, what: str) -> None:
    if any(not c.isprintable() for c in value):
        raise ValueError(f"{what} contains a control character")
    bad = sorted({c for c in value if c in _SHELL_META})
    if bad:
        shown = " ".join("space" if c == " " else "tab" if c == "\t" else c for c in bad)
        raise ValueError(f"{what} contains characters that are not allowed: {shown}")


def check_name(value: str) -> str:
    _reject_unsafe(value, "the name")
    if not _NAME.fullmatch(value):
        raise ValueError(
            "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def check_address(value: str) -> str:
    candidate = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    _reject_unsafe(candidate, "the address")
    if not candidate.isascii():
        raise ValueError("use ASCII only (write international domain names in xn-- form)")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        pass
    hostname = candidate.rstrip(".")
    labels = hostname.split(".")
    if (
        not hostname
        or len(hostname) > 253
        or not all(_DNS_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError("give a DNS name, an IPv4 address or an IPv6 address")
    return hostname.lower()


def check_user(value: str) -> str:
    _reject_unsafe(value, "the user")
    if not _USER.fullmatch(value):
        raise ValueError("use a Unix user name: letters, digits, '_', '.', '-', up to 32")
    return value


def check_tag(value: str) -> str:
    _reject_unsafe(value, "a tag")
    if not _TAG.fullmatch(value):
        raise ValueError("tags use 1-32 letters, digits, '_', '.', ':' or '-'")
    return value


def check_socket_path(value: str) -> str:
    _reject_unsafe(value, "the Docker socket path")
    if not _SOCKET_PATH.fullmatch(value) or "/../" in f"{value}/":
        raise ValueError("give an absolute path such as /var/run/docker.sock")
    return value


def check_fingerprint(value: str) -> str:
    if not _FINGERPRINT.fullmatch(value):
        raise ValueError("expected an OpenSSH SHA256 fingerprint like SHA256:AbC...(43 characters)")
    return value.rstrip("=")


HostName = Annotated[str, AfterValidator(check_name)]
Address = Annotated[str, AfterValidator(check_address)]
UserName = Annotated[str, AfterValidator(check_user)]
Tag = Annotated[str, AfterValidator(check_tag)]
SocketPath = Annotated[str, AfterValidator(check_socket_path)]

DEFAULT_DOCKER_SOCKET: Final = "/var/run/docker.sock"


class Host(BaseModel):
    """A host as configured by the user. ``host_key`` is the pinned server key as an OpenSSH
    public key line; ``key_ref`` names the private key's entry in the OS keyring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: HostName
    kind: HostKind = HostKind.SSH
    address: Address
    port: int = Field(default=22, ge=1, le=65535)
    user: UserName = "root"
    auth: AuthMethod = AuthMethod.KEY
    key_ref: str | None = None
    interval_seconds: int = Field(
        default=DEFAULT_INTERVAL_SECONDS, ge=MIN_INTERVAL_SECONDS, le=MAX_INTERVAL_SECONDS
    )
    enabled: bool = True
    tags: tuple[Tag, ...] = ()
    host_key: str | None = None
    docker_socket: SocketPath = DEFAULT_DOCKER_SOCKET

    @property
    def is_local(self) -> bool:
        return self.kind is HostKind.LOCAL

    @property
    def display_address(self) -> str:
        if self.is_local:
            return LOCAL_HOST_LABEL
        if ":" in self.address:
            return f"[{self.address}]:{self.port}"
        return self.address if self.port == 22 else f"{self.address}:{self.port}"


def local_host() -> Host:
    """The embedded default: the machine VPS Health runs on, read with psutil."""
    return Host(
        name=LOCAL_HOST_NAME,
        kind=HostKind.LOCAL,
        address="127.0.0.1",
        user="root",
        auth=AuthMethod.NONE,
    )

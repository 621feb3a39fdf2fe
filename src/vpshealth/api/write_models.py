"""The bodies the write routes take: unknown fields are refused, so that a typo is a 422 that
names it instead of a change that silently did not happen."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from vpshealth.domain.hosts import DEFAULT_DOCKER_SOCKET, DEFAULT_INTERVAL_SECONDS
from vpshealth.operations.rules import RuleInput

MAX_ID = 2**63 - 1
"""The largest id SQLite stores."""
FINGERPRINT_HELP = (
    "the SHA256 fingerprint of the server's host key (`ssh-keygen -lf "
    "/etc/ssh/ssh_host_ed25519_key.pub` on the server); without it the answer is 409 with the "
    "fingerprint the server presents, and nothing is saved"
)
RuleChanges = dict[str, RuleInput]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Body):
    """At most one of ``key_secret``, ``private_key`` and ``generate_key``."""

    key_secret: str | None = Field(
        default=None,
        max_length=128,
        description="the file name of a private key in the node's secrets folder "
        "(VPSHEALTH_SECRETS_DIR, $CREDENTIALS_DIRECTORY or /run/secrets), e.g. a compose secret",
        examples=["web1_key"],
    )
    private_key: str | None = Field(
        default=None,
        max_length=64 * 1024,
        description="a private key in OpenSSH or PEM format; it goes into the node's secret store",
    )
    passphrase: str | None = Field(
        default=None,
        max_length=1024,
        description="unlocks an encrypted `private_key` or `key_secret`",
    )
    generate_key: bool = Field(
        default=False,
        description="create a new ed25519 key; the answer's `authorized_keys_line` goes into the "
        "server's ~/.ssh/authorized_keys",
    )

    def login_fields(self) -> list[str]:
        given = [("key_secret", self.key_secret), ("private_key", self.private_key)]
        return [name for name, value in given if value is not None] + (
            ["generate_key"] if self.generate_key else []
        )


class NewHost(Login):
    name: str = Field(max_length=200, examples=["web1"])
    address: str = Field(max_length=300, examples=["203.0.113.10", "web1.example.com"])
    port: int = 22
    user: str = Field(default="root", max_length=200)
    interval_seconds: int = DEFAULT_INTERVAL_SECONDS
    tags: list[str] = Field(default_factory=list, max_length=100)
    docker_socket: str = Field(default=DEFAULT_DOCKER_SOCKET, max_length=1000)
    host_key_fingerprint: str | None = Field(
        default=None, max_length=200, description=FINGERPRINT_HELP
    )

    def host_fields(self) -> dict[str, Any]:
        fields = self.model_dump(include=set(_HOST_FIELDS))
        fields["tags"] = tuple(self.tags)
        return fields


class HostBase(Body):
    """The values an edit was made from: a field changed on the node since keeps the node's
    value (first to reach the node wins, per field)."""

    name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    port: int | None = None
    user: str | None = Field(default=None, max_length=200)
    interval_seconds: int | None = None
    tags: list[str] | None = Field(default=None, max_length=100)
    docker_socket: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = None


class HostChanges(Login):
    """Only what is given changes; null is the same as leaving a field out."""

    name: str | None = Field(default=None, max_length=200, description="a new name")
    address: str | None = Field(default=None, max_length=300)
    port: int | None = None
    user: str | None = Field(default=None, max_length=200)
    interval_seconds: int | None = None
    tags: list[str] | None = Field(default=None, max_length=100, description="replaces the tags")
    docker_socket: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = None
    host_key_fingerprint: str | None = Field(
        default=None,
        max_length=200,
        description="trust the key the server presents now, if it has this fingerprint (after a "
        "rebuild of the server, as `vpshealth host trust` does)",
    )
    expected: HostBase | None = Field(
        default=None,
        description="the values the change was made from, per field (a desktop's copy sends "
        "them): a field whose value on the node differs keeps the node's value and is answered "
        "in `kept`; the other fields change, all in one transaction",
    )

    def base(self) -> dict[str, Any]:
        """The ``expected`` values given, by field (tags as a list)."""
        if self.expected is None:
            return {}
        return {f: getattr(self.expected, f) for f in self.expected.model_fields_set}

    def changes(self) -> dict[str, Any]:
        changes = {
            f: getattr(self, f) for f in (*_HOST_FIELDS, "enabled") if getattr(self, f) is not None
        }
        if "tags" in changes:
            changes["tags"] = tuple(changes["tags"])
        return changes


_HOST_FIELDS = ("name", "address", "port", "user", "interval_seconds", "tags", "docker_socket")


class NewSnooze(Body):
    host: str | None = Field(default=None, max_length=200, description="the host to snooze")
    all: bool = Field(default=False, description="snooze every host (instead of `host`)")
    duration: str | int | None = Field(
        default=None,
        description="how long: 90m, 2h, 1d, 1w, or seconds",
        examples=["2h"],
    )
    until: str | int | None = Field(
        default=None,
        description="when it ends (instead of `duration`): Unix seconds or ISO 8601, UTC unless "
        "it says otherwise",
    )
    reason: str = Field(default="", max_length=500)


class NewWindow(Body):
    host: str | None = Field(default=None, max_length=200)
    all: bool = Field(default=False, description="every host (instead of `host`)")
    start: str | int | None = Field(
        default=None,
        description="a one-off window's start: `now` (the default), Unix seconds or ISO 8601 "
        "(UTC unless it says otherwise)",
    )
    weekly: str | None = Field(
        default=None,
        max_length=50,
        description="a weekly window's start instead, in the node's local time (UTC in the "
        "container image)",
        examples=["sun 03:00"],
    )
    duration: str | int = Field(description="90m, 2h, ... or seconds", examples=["2h"])
    reason: str = Field(default="", max_length=500)


class AckMany(Body):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=1000)


class EmailChanges(Body):
    """Only what is given changes; null resets a setting to its default."""

    smtp_host: str | None = Field(default=None, max_length=300, examples=["smtp.example.com"])
    smtp_port: int | None = None
    security: str | None = Field(default=None, max_length=20, description="starttls, tls or none")
    user: str | None = Field(default=None, max_length=300)
    sender: str | None = Field(default=None, alias="from", max_length=300)
    to: list[str] | None = Field(default=None, max_length=100)
    min_severity: str | None = Field(default=None, max_length=20, description="warning or critical")
    batch_seconds: int | None = None
    max_per_host_per_hour: int | None = None
    ca_file: str | None = Field(default=None, max_length=4096)
    enabled: bool | None = None
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="the SMTP password, kept in the node's secret store and never answered",
    )

    def changes(self) -> dict[str, Any]:
        """By setting key (``from``, not ``sender``), the password left out."""
        return self.model_dump(include=self.model_fields_set - {"password"}, by_alias=True)

"""The stored connection to a node: its address, the pinned SSH host key, how to log in, and
the references of its token and login key in the secret store. Kept under ``node.*`` in the
local database's settings; the secrets themselves never go into the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final

from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.sync.node_address import NodeAddress, NodeAddressError, parse_node_address

PREFIX: Final = "node."
NODE_NAME: Final = "node"
"""The name the node goes by in SSH messages (it is not one of the monitored hosts)."""
_FIELDS: Final = (
    "address",
    "api_port",
    "host_key",
    "auth",
    "key_ref",
    "token_ref",
    "ca_file",
    "connected_at",
)


def new_token_ref() -> str:
    return f"node-token/{uuid.uuid4()}"


@dataclass(frozen=True, slots=True)
class NodeLink:
    address: NodeAddress
    token_ref: str
    connected_at: int
    host_key: str | None = None
    """The node's pinned SSH host key line (ssh:// only)."""
    auth: AuthMethod = AuthMethod.NONE
    key_ref: str | None = None
    """The login key's entry in the secret store (ssh:// with a key)."""
    ca_file: str | None = None
    """Also trust this CA file (PEM) for the node's certificate (https:// only)."""

    @property
    def name(self) -> str:
        """The node as named in messages."""
        return f"the node {self.address.text}"

    def ssh_host(self) -> Host:
        """The node as an SSH peer, for collectors' SshConnection."""
        a = self.address
        return Host(
            name=NODE_NAME,
            address=a.host,
            port=a.port,
            user=a.user or "root",
            auth=self.auth,
            key_ref=self.key_ref,
            host_key=self.host_key,
        )


TAKE_OVER_KEY = "node.take_over"


class NodeLinkStore:
    """Blocking (the database): call from a worker thread when on an event loop."""

    def __init__(self, settings: SettingsRepository) -> None:
        self._settings = settings

    def load(self) -> NodeLink | None:
        """The link, or None when none is stored (or what is stored is not usable)."""
        values = self._settings.with_prefix(PREFIX)
        address, token_ref = values.get("address"), values.get("token_ref")
        if not isinstance(address, str) or not isinstance(token_ref, str):
            return None
        try:
            parsed = parse_node_address(address, _api_port(values, address))
            auth = AuthMethod(values.get("auth", AuthMethod.NONE.value))
        except (NodeAddressError, ValueError):
            return None
        return NodeLink(
            address=parsed,
            token_ref=token_ref,
            connected_at=int(values.get("connected_at") or 0),
            host_key=_text(values.get("host_key")),
            auth=auth,
            key_ref=_text(values.get("key_ref")),
            ca_file=_text(values.get("ca_file")),
        )

    def save(self, link: NodeLink) -> None:
        """Replaces what was stored, in one transaction."""
        a = link.address
        self._settings.update(
            {
                PREFIX + "address": a.text,
                PREFIX + "api_port": a.api_port if a.is_ssh else None,
                PREFIX + "host_key": link.host_key,
                PREFIX + "auth": link.auth.value,
                PREFIX + "key_ref": link.key_ref,
                PREFIX + "token_ref": link.token_ref,
                PREFIX + "ca_file": link.ca_file,
                PREFIX + "connected_at": link.connected_at,
            },
            now=link.connected_at,
        )

    def take_over(self) -> bool:
        """Whether this computer takes over the checks while the node is silent (off unless
        set; it stays set across links)."""
        return self._settings.get(TAKE_OVER_KEY) is True

    def set_take_over(self, on: bool, now: int) -> None:
        self._settings.update({TAKE_OVER_KEY: True if on else None}, now=now)

    def forget(self, now: int) -> None:
        self._settings.update(dict.fromkeys((PREFIX + f for f in _FIELDS), None), now=now)


def _api_port(values: dict[str, Any], address: str) -> int | None:
    port = values.get("api_port")
    return port if isinstance(port, int) and address.startswith("ssh://") else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

"""A desktop home linked to a node, with a copy of that node written directly (no node runs):
for the tests of what reads from the copy."""

from __future__ import annotations

from collections.abc import Sequence

from vpshealth.app import Core
from vpshealth.config import Paths
from vpshealth.domain.hosts import Host
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.sync.node_address import parse_node_address
from vpshealth.sync.node_link import NodeLink, NodeLinkStore
from vpshealth.sync.replica import open_copy

NODE_ADDRESS = "https://node.example.net"


def link_with_copy(
    core: Core, host_names: Sequence[str], synced_at: float | None, now: float
) -> NodeLink:
    """Link ``core``'s computer to a node (nothing asked of it) and write its copy: the
    hosts named, and the cursor's time of the last sync."""
    link = NodeLink(parse_node_address(NODE_ADDRESS), "node-token/test", int(now))
    NodeLinkStore(core.stored_settings).save(link)
    write_copy(core.paths, host_names, synced_at, now)
    core.choose_reads_again()
    return link


def write_copy(
    paths: Paths, host_names: Sequence[str], synced_at: float | None, now: float
) -> None:
    copy = open_copy(paths)
    try:
        hosts = HostRepository(copy)
        for record in hosts.list():  # the node's state replaces the hosts a new file starts with
            hosts.remove(record.host.name)
        for name in host_names:
            hosts.add(Host(name=name, address="192.0.2.10"))
        if synced_at is not None:
            SettingsRepository(copy).update({"sync.synced_at": synced_at}, int(now))
    finally:
        copy.dispose()

"""Every operation a face can call, built once in app.py."""

from __future__ import annotations

from dataclasses import dataclass

from vpshealth.operations.channels import ChannelOperations
from vpshealth.operations.email_settings import EmailSettingsOperations
from vpshealth.operations.hetzner import HetznerOperations
from vpshealth.operations.hosts import HostOperations
from vpshealth.operations.incidents import IncidentOperations
from vpshealth.operations.node_link import NodeLinkOperations
from vpshealth.operations.rules import RuleOperations
from vpshealth.operations.silences import SilenceOperations


@dataclass(frozen=True, slots=True)
class Operations:
    hosts: HostOperations
    rules: RuleOperations
    incidents: IncidentOperations
    silences: SilenceOperations
    email: EmailSettingsOperations
    channels: ChannelOperations
    hetzner: HetznerOperations
    node: NodeLinkOperations

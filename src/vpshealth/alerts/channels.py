"""The durable channels this build has, each with its delivery worker: what ``app.py`` starts
with the engine. E-mail is one channel; the alert channels (Apprise URLs) are as many as are
stored, each with a worker of its own that :class:`ChannelSupervisor` starts and stops as
channels are added and removed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from vpshealth.alerts.channel import Channel
from vpshealth.alerts.channel_supervisor import ChannelSupervisor
from vpshealth.alerts.delivery_worker import DeliveryWorker
from vpshealth.alerts.email_channel import EmailChannel
from vpshealth.clock import Clock
from vpshealth.config import Settings
from vpshealth.secrets import SecretStore


def build_channels(engine: Engine, settings: Settings, secrets: SecretStore) -> list[Channel[Any]]:
    return [EmailChannel(engine, settings, secrets)]


def build_delivery_workers(
    engine: Engine, settings: Settings, secrets: SecretStore, clock: Clock
) -> list[DeliveryWorker[Any]]:
    return [
        DeliveryWorker(engine, channel, clock)
        for channel in build_channels(engine, settings, secrets)
    ]


def build_channel_supervisor(
    engine: Engine, secrets: SecretStore, clock: Clock
) -> ChannelSupervisor:
    return ChannelSupervisor(engine, secrets, clock)

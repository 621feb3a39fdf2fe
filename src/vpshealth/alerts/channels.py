"""The durable channels this build has, each with its delivery worker: what ``app.py`` starts
with the engine. A new channel is its module plus one line here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from vpshealth.alerts.channel import Channel
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

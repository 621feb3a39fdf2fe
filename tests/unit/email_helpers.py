"""Building notifications and writing them the way the alerting engine does, for the e-mail
tests."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, insert

from vpshealth.alerts.email_channel import EmailChannel
from vpshealth.domain.containers import Severity
from vpshealth.domain.hosts import Host, HostKind
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.notification_queue import NotificationQueue
from vpshealth.store.schema import notifications

T0 = 1_800_000_000


def make_notification(**changes: Any) -> Notification:
    fields: dict[str, Any] = {
        "kind": NotificationKind.OPENED,
        "severity": Severity.CRITICAL,
        "host_name": "web-1",
        "host_address": "203.0.113.10",
        "rule": "restart_loop",
        "subject": "c-web",
        "title": "restart loop of shop / production / web",
        "message": "web restarted 4 times in 10 minutes",
        "since": T0 - 600,
        "at": T0,
        "app": "shop / production / web",
        "value": 4.0,
        "threshold": 3.0,
        "unit": "restarts",
    }
    fields.update(changes)
    return Notification(**fields)


def add_host(engine: Engine, name: str, address: str = "203.0.113.10") -> int:
    return HostRepository(engine).add(Host(name=name, kind=HostKind.SSH, address=address))


def insert_notification(
    engine: Engine, item: Notification, *, host_id: int | None, created_at: int | None = None
) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            insert(notifications).values(
                kind=item.kind.value,
                severity=item.severity.value,
                host_id=host_id,
                incident_id=None,
                created_at=item.at if created_at is None else created_at,
                payload=json.dumps(item.to_json()),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def email_queue(engine: Engine) -> NotificationQueue:
    """The e-mail channel's queue, taking on every notification in the database."""
    return NotificationQueue(engine, EmailChannel.name, since=0)

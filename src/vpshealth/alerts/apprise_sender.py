"""Sending one message through Apprise, blocking (call it in a worker thread): the URL gets
the message's ntfy priority and tags, Apprise's notify type follows the level, and a failure
raises :class:`DeliveryError` with Apprise's own reason, its URLs masked."""

from __future__ import annotations

from typing import Final

from vpshealth.alerts.apprise_urls import (
    AppriseUrlError,
    captured_apprise_log,
    instantiate,
    with_level,
)
from vpshealth.alerts.channel import DeliveryError

NOTIFY_TYPES: Final = {
    "critical": "failure",
    "warning": "warning",
    "resolved": "success",
    "test": "info",
}


def send_apprise(url: str, title: str, body: str, level: str | None) -> None:
    try:
        plugin = instantiate(with_level(url, level))
    except AppriseUrlError as exc:
        raise DeliveryError(f"the channel's URL is not usable: {exc}", permanent=True) from None
    # The plugin itself, not Apprise(): it sends in this thread, where its log is captured
    # (Apprise() hands the work to a thread pool of its own).
    with captured_apprise_log() as lines:
        sent = plugin.notify(
            body=body,
            title=title,
            notify_type=NOTIFY_TYPES.get(level or "", "info"),
            body_format="text",
        )
    if not sent:
        reason = "; ".join(dict.fromkeys(lines)) or "Apprise gave no reason"
        raise DeliveryError(f"{plugin.service_name} did not take the message: {reason}")

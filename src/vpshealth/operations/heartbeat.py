"""The node's dead man's switch (``vpshealth service heartbeat``): a Healthchecks-style URL
the service pings every N minutes. The URL carries a secret: it goes to the secret store; the
database keeps its reference and the period (setting ``node.heartbeat``, never sent to a
desktop's copy)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from vpshealth.alerts.apprise_urls import mask_url
from vpshealth.clock import Clock
from vpshealth.domain.heartbeat import HeartbeatTarget
from vpshealth.operations.errors import FieldError
from vpshealth.secrets import SecretStore
from vpshealth.store.settings_repository import SettingsRepository

HEARTBEAT_KEY = "node.heartbeat"
DEFAULT_EVERY = 300
MIN_EVERY = 10
MAX_EVERY = 86_400


@dataclass(frozen=True, slots=True)
class HeartbeatShown:
    masked_url: str
    every: int


class HeartbeatOperations:
    """Blocking (the database, the secret store)."""

    def __init__(self, settings: SettingsRepository, secrets: SecretStore, clock: Clock) -> None:
        self._settings = settings
        self._secrets = secrets
        self._clock = clock

    def set(self, url: str, every: int = DEFAULT_EVERY) -> HeartbeatShown:
        """Raises FieldError naming ``url`` or ``every``; on an error nothing is saved."""
        url = _checked_url(url)
        if not MIN_EVERY <= every <= MAX_EVERY:
            raise FieldError("every", "give a period from 10s to 24h, e.g. 5m", value=f"{every} s")
        earlier = self._stored()
        ref = f"heartbeat-{uuid.uuid4().hex[:12]}"
        self._secrets.put(ref, url)
        try:
            self._settings.update(
                {HEARTBEAT_KEY: {"url_ref": ref, "every": every}}, int(self._clock.now())
            )
        except Exception:
            self._secrets.delete(ref)
            raise
        if earlier is not None:
            self._secrets.delete(earlier[0])
        return HeartbeatShown(mask_url(url), every)

    def show(self) -> HeartbeatShown | None:
        target = self.target()
        return None if target is None else HeartbeatShown(target.masked, target.every)

    def off(self) -> bool:
        """Forget the URL; False when none was set."""
        earlier = self._stored()
        if earlier is None:
            return False
        self._settings.update({HEARTBEAT_KEY: None}, int(self._clock.now()))
        self._secrets.delete(earlier[0])
        return True

    def target(self) -> HeartbeatTarget | None:
        """What the service pings (None: no heartbeat, or its URL gone from the store)."""
        stored = self._stored()
        if stored is None:
            return None
        ref, every = stored
        url = self._secrets.get(ref)
        if not url:
            return None
        return HeartbeatTarget(url=url, every=every, masked=mask_url(url))

    def _stored(self) -> tuple[str, int] | None:
        value = self._settings.get(HEARTBEAT_KEY)
        if not isinstance(value, dict):
            return None
        ref, every = value.get("url_ref"), value.get("every")
        if not isinstance(ref, str) or not isinstance(every, int):
            return None
        return ref, every


def _checked_url(text: str) -> str:
    url = text.strip()
    if not url:
        raise FieldError("url", "it is empty; give the ping URL your monitoring service shows")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FieldError(
            "url",
            "give an http:// or https:// URL, as Healthchecks.io shows it "
            "(https://hc-ping.com/UUID)",
            value=mask_url(url),
        )
    if any(c.isspace() for c in url):
        raise FieldError("url", "a URL has no spaces", value=mask_url(url))
    return url

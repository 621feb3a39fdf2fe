"""The short forms of the channel dialog, turned into Apprise URLs: ntfy (server, topic,
optional token), Telegram (bot token, chat id), Discord and Slack (their webhook URLs), a JSON
webhook (its URL), or any Apprise URL as given. Pure: no Qt, so it is tested on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit


class ChannelKind(StrEnum):
    NTFY = "ntfy"
    TELEGRAM = "telegram"
    DISCORD = "discord"
    SLACK = "slack"
    WEBHOOK = "webhook"
    APPRISE = "apprise"


KIND_LABELS = {
    ChannelKind.NTFY: "ntfy",
    ChannelKind.TELEGRAM: "Telegram",
    ChannelKind.DISCORD: "Discord",
    ChannelKind.SLACK: "Slack",
    ChannelKind.WEBHOOK: "Webhook (JSON)",
    ChannelKind.APPRISE: "Any Apprise URL",
}

_DISCORD = re.compile(r"^https://(?:\w+\.)?discord(?:app)?\.com/api/webhooks/(\d+)/([\w-]+)/?$")
_SLACK = re.compile(r"^https://hooks\.slack\.com/services/(\w+)/(\w+)/(\w+)/?$")
_TELEGRAM_TOKEN = re.compile(r"^\d+:[\w-]+$")
_CHAT_ID = re.compile(r"^(-?\d+|@\w+)$")
_TOPIC = re.compile(r"^[\w-]{1,64}$")


class FormError(ValueError):
    """``field``: the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class ChannelFields:
    server: str = ""
    topic: str = ""
    token: str = ""
    chat_id: str = ""
    webhook: str = ""
    url: str = ""


def _http_url(text: str, field: str, example: str) -> tuple[str, str]:
    """(scheme, rest after ``://``) of an http(s) URL."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FormError(field, f"Enter an http:// or https:// URL, e.g. {example}.")
    return parts.scheme, text.strip().split("://", 1)[1]


def build_url(kind: ChannelKind, fields: ChannelFields) -> str:
    """Raises FormError naming the field that is missing or not valid."""
    if kind is ChannelKind.NTFY:
        scheme, rest = _http_url(fields.server or "https://ntfy.sh", "server", "https://ntfy.sh")
        host = rest.split("/", 1)[0]
        topic = fields.topic.strip()
        if not _TOPIC.match(topic):
            raise FormError("topic", "Enter a topic: letters, digits, '-' or '_'.")
        token = fields.token.strip()
        auth = f"{quote(token, safe='')}@" if token else ""
        return f"{'ntfys' if scheme == 'https' else 'ntfy'}://{auth}{host}/{topic}"
    if kind is ChannelKind.TELEGRAM:
        token = fields.token.strip()
        if not _TELEGRAM_TOKEN.match(token):
            raise FormError("token", "Enter the bot token from @BotFather, like 123456:ABC-def.")
        chat = fields.chat_id.strip()
        if not _CHAT_ID.match(chat):
            raise FormError("chat_id", "Enter the chat id, like 12345678 or -100123456789.")
        return f"tgram://{token}/{chat}"
    if kind is ChannelKind.DISCORD:
        found = _DISCORD.match(fields.webhook.strip())
        if not found:
            raise FormError(
                "webhook",
                "Paste the webhook URL, like https://discord.com/api/webhooks/123/abc.",
            )
        return f"discord://{found[1]}/{found[2]}"
    if kind is ChannelKind.SLACK:
        found = _SLACK.match(fields.webhook.strip())
        if not found:
            raise FormError(
                "webhook",
                "Paste the webhook URL, like https://hooks.slack.com/services/T000/B000/XXXX.",
            )
        return f"slack://{found[1]}/{found[2]}/{found[3]}"
    if kind is ChannelKind.WEBHOOK:
        scheme, rest = _http_url(fields.webhook, "webhook", "https://example.com/alerts")
        return f"{'jsons' if scheme == 'https' else 'json'}://{rest}"
    url = fields.url.strip()
    if "://" not in url:
        raise FormError("url", "Enter an Apprise URL, like pover://USER@TOKEN.")
    return url

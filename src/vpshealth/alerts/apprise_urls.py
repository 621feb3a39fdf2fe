"""Apprise URLs: checking one without sending, the masked form that may be shown, and the
per-message parameters (ntfy's priority and tags). Apprise's log lines are captured while it
works: they become the reason of an error, and they never reach the application's log, where
a line about a URL it could not parse would carry the secret."""

from __future__ import annotations

import functools
import logging
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from apprise.plugins.base import NotifyBase

APPRISE_LOGGER: Final = "apprise"
MASK: Final = "…"
NTFY_SCHEMES: Final = frozenset({"ntfy", "ntfys"})
SERVICES_HELP: Final = "https://github.com/caronc/apprise/wiki"

NTFY_PRIORITY: Final = {"critical": "max", "warning": "high", "resolved": "default", "test": "low"}
NTFY_TAGS: Final = {
    "critical": "rotating_light",
    "warning": "warning",
    "resolved": "white_check_mark",
    "test": "test_tube",
}

_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_SECRETISH = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z]).{12,}|.{16,}")


class AppriseUrlError(ValueError):
    """Why a URL cannot be used, in a person's words (never the URL itself)."""


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    url: str
    service: str
    """Apprise's name of the service (``ntfy``, ``Telegram``, ``JSON``)."""
    masked: str


def _scheme(url: str) -> str:
    head, sep, _ = url.partition("://")
    return head.lower() if sep else ""


def _mask_segment(segment: str) -> str:
    """Apprise shows a token as ``A...n`` (``****`` for a password): written ``A…n`` here.
    A segment that looks like a token (long, letters and digits, no dot of a domain name) is
    cut to its first and last character."""
    for shown in ("...", "****", "***"):
        if shown in segment:
            return segment.replace(shown, MASK)
    if "." not in segment and _SECRETISH.fullmatch(segment):
        return f"{segment[:1]}{MASK}{segment[-1:]}"
    return segment


def mask_url(url: str) -> str:
    """``ntfys://…@ntfy.sh/topic``: no user or password, no query (tokens travel there too),
    and path segments that look like tokens cut to their first and last character. Apprise's
    privacy form (``url(privacy=True)``) is the input for known services; this works on any
    text that looks like a URL."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return MASK
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    _userinfo, at, hostport = netloc.rpartition("@")
    path = re.split(r"[?#]", tail, maxsplit=1)[0]
    shown_path = "/".join(_mask_segment(s) for s in path.split("/")).rstrip("/")
    host = ":".join(_mask_segment(s) for s in hostport.split(":")) if hostport else ""
    return f"{scheme.lower()}://{MASK + '@' if at else ''}{host}{shown_path}"


def scrub(text: str) -> str:
    """Every URL in ``text`` replaced by its masked form."""
    return _URL_IN_TEXT.sub(lambda m: mask_url(m[0]), text)


@contextmanager
def captured_apprise_log() -> Iterator[list[str]]:
    """Apprise's warnings and errors from this thread, kept out of the application's log."""
    lines: list[str] = []
    me = threading.get_ident()

    def keep(record: logging.LogRecord) -> bool:
        if record.thread != me:
            return True
        if record.levelno >= logging.WARNING:
            lines.append(scrub(record.getMessage()))
        return False

    logger = logging.getLogger(APPRISE_LOGGER)
    logger.addFilter(keep)
    try:
        yield lines
    finally:
        logger.removeFilter(keep)


@functools.cache
def _known_schemes() -> frozenset[str]:
    """Loads Apprise and its plugins, once. Its e-mail plugin imports ``imghdr``, which
    warns of its removal in Python 3.13 (Apprise ships a replacement for when it is gone)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        from apprise.manager_plugins import NotificationManager  # noqa: PLC0415

        manager = NotificationManager()  # type: ignore[no-untyped-call]
        return frozenset(str(s).lower() for s in manager.schemas())  # type: ignore[no-untyped-call]


def instantiate(url: str) -> NotifyBase:
    """The Apprise plugin for ``url``, or :class:`AppriseUrlError` saying what is wrong.
    Nothing is sent."""
    import apprise  # noqa: PLC0415 - Apprise loads about 250 plugins; only when needed

    text = url.strip()
    scheme = _scheme(text)
    if not scheme:
        raise AppriseUrlError(
            "it is not a URL; write it like ntfys://ntfy.sh/my-topic or tgram://BOT_TOKEN/CHAT_ID"
        )
    if scheme not in _known_schemes():
        raise AppriseUrlError(
            f"{scheme}:// is not a service Apprise knows; see {SERVICES_HELP} for the URL of yours"
        )
    with captured_apprise_log() as lines:
        plugin = apprise.Apprise.instantiate(
            text,
            asset=apprise.AppriseAsset(app_id="VPS Health", app_desc="VPS Health"),
            suppress_exceptions=True,
        )
    if plugin is None:
        reason = lines[-1] if lines else f"the {scheme}:// URL is not complete"
        raise AppriseUrlError(f"{reason.rstrip('.')}; see {SERVICES_HELP} for its form")
    if scheme in NTFY_SCHEMES and not getattr(plugin, "topics", None):
        raise AppriseUrlError("an ntfy URL needs a topic, like ntfys://ntfy.sh/my-topic")
    return plugin


def check_url(url: str) -> CheckedUrl:
    plugin = instantiate(url)
    return CheckedUrl(
        url=url.strip(),
        service=str(plugin.service_name),
        masked=mask_url(plugin.url(privacy=True)),  # type: ignore[no-untyped-call]
    )


def with_level(url: str, level: str | None) -> str:
    """An ntfy URL gets the priority and tags of ``level`` unless it sets its own; other URLs
    are returned as they are."""
    if level is None or _scheme(url) not in NTFY_SCHEMES:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "priority" not in query and level in NTFY_PRIORITY:
        query["priority"] = NTFY_PRIORITY[level]
    if "tags" not in query and "xtags" not in query and level in NTFY_TAGS:
        query["tags"] = NTFY_TAGS[level]
    return urlunsplit(parts._replace(query=urlencode(query)))

"""Apprise URLs: checked by Apprise without sending, masked wherever they are shown, and ntfy's
priority and tags by severity."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.alerts.apprise_urls import (
    NTFY_PRIORITY,
    AppriseUrlError,
    check_url,
    mask_url,
    scrub,
    with_level,
)

TOKEN = st.text(string.ascii_letters + string.digits, min_size=16, max_size=40).map(
    lambda t: "tk" + t
)


@pytest.mark.parametrize(
    ("url", "masked", "service"),
    [
        ("ntfys://tk_abc123secret@ntfy.sh/topic", "ntfys://…@ntfy.sh/topic", "ntfy"),
        ("ntfy://user:hunter2@127.0.0.1:8080/alerts", "ntfy://…@127.0.0.1:8080/alerts", "ntfy"),
        ("ntfy://127.0.0.1:8080/alerts", "ntfy://127.0.0.1:8080/alerts", "ntfy"),
        ("json://127.0.0.1:9000/hook", "json://127.0.0.1:9000/hook", "JSON"),
        ("gotify://push.example.com/AbCdEf123456Token", "gotify://push.example.com/A…n", "Gotify"),
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100200300",
         "tgram://1…w/-100200300", "Telegram"),
    ],
)  # fmt: skip
def test_a_url_is_checked_and_masked(url: str, masked: str, service: str) -> None:
    checked = check_url(url)
    assert (checked.masked, checked.service, checked.url) == (masked, service, url)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "it is not a URL"),
        ("bogus://example.com/x", "bogus:// is not a service Apprise knows"),
        ("ntfy://", "an ntfy URL needs a topic"),
        ("tgram://nonsense/", "Telegram"),
    ],
)
def test_a_malformed_or_unsupported_url_is_refused(url: str, says: str) -> None:
    with pytest.raises(AppriseUrlError, match=says):
        check_url(url)


@given(user=TOKEN, password=TOKEN, token=TOKEN)
def test_no_secret_survives_masking(user: str, password: str, token: str) -> None:
    for url in (
        f"ntfys://{user}:{password}@ntfy.sh/topic?token={token}",
        f"ntfys://{token}@ntfy.sh/topic",
        f"json://{user}:{password}@hooks.example.com/{token}/in?key={token}",
        f"gotify://push.example.com/{token}",
    ):
        shown = check_url(url).masked
        for secret in (user, password, token):
            assert secret not in shown
        assert secret not in scrub(f"could not reach {url} now")


@given(st.text(max_size=80))
def test_masking_any_text_does_not_fail(text: str) -> None:
    assert "?" not in mask_url(text).partition("://")[2] or "://" not in text


@pytest.mark.parametrize(("level", "priority", "tag"), [
    ("critical", "max", "rotating_light"),
    ("warning", "high", "warning"),
    ("resolved", "default", "white_check_mark"),
    ("test", "low", "test_tube"),
])  # fmt: skip
def test_ntfy_gets_priority_and_tags_by_severity(level: str, priority: str, tag: str) -> None:
    url = with_level("ntfy://127.0.0.1:8080/alerts", level)
    assert url == f"ntfy://127.0.0.1:8080/alerts?priority={priority}&tags={tag}"
    assert check_url(url).service == "ntfy"


def test_a_priority_in_the_url_wins_and_other_services_are_left_alone() -> None:
    assert with_level("ntfys://ntfy.sh/t?priority=min", "critical") == (
        "ntfys://ntfy.sh/t?priority=min&tags=rotating_light"
    )
    assert with_level("json://127.0.0.1/hook", "critical") == "json://127.0.0.1/hook"
    assert with_level("ntfy://127.0.0.1/t", None) == "ntfy://127.0.0.1/t"
    assert set(NTFY_PRIORITY) == {"critical", "warning", "resolved", "test"}

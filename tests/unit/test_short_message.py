"""Short messages for chat and push channels: the title names the severity and the server, the
lines the app, what happened and since when, and the last log lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.email_helpers import T0, make_notification
from vpshealth.alerts.short_message import (
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    Level,
    level_of,
    render_short,
)
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import NotificationKind


def test_one_crash_loop() -> None:
    item = make_notification(log_lines="starting\nlistening on :80\npanic: out of cheese")
    message = render_short([item], T0)
    assert message.title == "CRITICAL web-1: restart loop of shop / production / web"
    assert message.level is Level.CRITICAL
    lines = message.body.splitlines()
    assert lines[0] == ("Problem on web-1 (203.0.113.10): restart loop of shop / production / web")
    assert "App: shop / production / web" in lines
    assert "web restarted 4 times in 10 minutes" in lines
    assert "Since 2027-01-15 07:50:00 UTC (10 min)" in lines
    assert lines[lines.index("Last log lines:") + 1 :][:3] == [
        "  starting",
        "  listening on :80",
        "  panic: out of cheese",
    ]
    assert lines[-1] == "VPS Health, 2027-01-15 08:00:00 UTC"


def test_a_resolution_has_no_log_lines_and_says_how_long_it_lasted() -> None:
    item = make_notification(kind=NotificationKind.RESOLVED, log_lines="a\nb", at=T0 + 600)
    message = render_short([item], T0 + 600)
    assert message.level is Level.RESOLVED
    assert message.title.startswith("RESOLVED web-1:")
    assert "Last log lines:" not in message.body
    assert "lasted 20 min" in message.body


def test_levels() -> None:
    warning = make_notification(severity=Severity.WARNING)
    resolved = make_notification(kind=NotificationKind.RESOLVED)
    test = make_notification(kind=NotificationKind.TEST)
    assert level_of([warning, resolved]) is Level.WARNING
    assert level_of([warning, make_notification()]) is Level.CRITICAL
    assert level_of([resolved, test]) is Level.RESOLVED
    assert level_of([test]) is Level.TEST


def test_many_notifications_stay_short() -> None:
    items = [make_notification(host_name=f"web-{i}", at=T0 + i) for i in range(12)]
    message = render_short(items, T0 + 20, held_back={"web-1": 3}, limit_per_hour=10)
    assert message.title == "CRITICAL: 12 problems on 12 servers"
    assert "… and 7 more" in message.body
    assert "3 more notifications about web-1 in the last hour were held back" in message.body


@given(
    title=st.text(max_size=400),
    app=st.none() | st.text(max_size=200),
    logs=st.none() | st.text(max_size=5000),
)
def test_any_text_gives_a_bounded_message_on_clean_lines(
    title: str, app: str | None, logs: str | None
) -> None:
    item = make_notification(title=title, app=app, message=title, log_lines=logs)
    message = render_short([item], T0)
    assert len(message.title) <= MAX_TITLE_CHARS
    assert "\n" not in message.title
    assert len(message.body) <= MAX_BODY_CHARS
    assert message.body.endswith("VPS Health, 2027-01-15 08:00:00 UTC")
    assert all(c >= " " for line in message.body.split("\n") for c in line)

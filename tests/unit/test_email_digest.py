"""The digest e-mail: subject, and every field of a notification in both bodies."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.email_helpers import T0, make_notification
from vpshealth.alerts.digest import digest_subject, render_digest, value_text
from vpshealth.domain.containers import Severity
from vpshealth.domain.notifications import NotificationKind


def test_one_notification_names_severity_server_and_what() -> None:
    item = make_notification()
    assert digest_subject([item]) == (
        "[VPS Health] CRITICAL web-1: restart loop of shop / production / web"
    )


def test_a_recovery_says_resolved() -> None:
    item = make_notification(kind=NotificationKind.RESOLVED, severity=Severity.WARNING)
    assert digest_subject([item]).startswith("[VPS Health] RESOLVED web-1: ")


def test_several_notifications_are_counted_by_problem_and_server() -> None:
    items = [
        make_notification(severity=Severity.WARNING),
        make_notification(severity=Severity.WARNING, host_name="db-1"),
        make_notification(severity=Severity.WARNING, subject="other"),
    ]
    assert digest_subject(items) == "[VPS Health] 3 problems on 2 servers"
    items.append(make_notification(kind=NotificationKind.RESOLVED))
    assert digest_subject(items) == "[VPS Health] 3 problems, 1 resolved on 2 servers"
    items.append(make_notification(host_name="db-2"))
    assert digest_subject(items) == "[VPS Health] CRITICAL: 4 problems, 1 resolved on 3 servers"


def test_several_notifications_about_one_server_are_named_after_the_worst() -> None:
    items = [
        make_notification(severity=Severity.WARNING, title="container api unhealthy"),
        make_notification(kind=NotificationKind.RESOLVED, title="api crashed"),
        make_notification(title="restart loop of shop / production / web"),
        make_notification(title="disk / filling up"),
    ]
    assert digest_subject(items) == (
        "[VPS Health] CRITICAL web-1: restart loop of shop / production / web (+3 more)"
    )
    crash_then_loop = [
        make_notification(rule="crashed", subject="shop-web", title="shop-web crashed"),
        make_notification(rule="crashed", subject="shop-web", kind=NotificationKind.RESOLVED),
        make_notification(rule="restart_loop", subject="shop-web", title="restart loop of shop"),
    ]
    assert digest_subject(crash_then_loop) == (
        "[VPS Health] CRITICAL web-1: restart loop of shop (+2 more)"
    ), "the crash folded into the loop is no longer open"
    only_recoveries = [make_notification(kind=NotificationKind.RESOLVED, title=t) for t in "ab"]
    assert digest_subject(only_recoveries) == "[VPS Health] RESOLVED web-1: a (+1 more)"


def test_only_recoveries() -> None:
    items = [
        make_notification(kind=NotificationKind.RESOLVED),
        make_notification(kind=NotificationKind.RESOLVED, host_name="db-1"),
    ]
    assert digest_subject(items) == "[VPS Health] 2 resolved on 2 servers"


def test_both_bodies_show_every_field() -> None:
    item = make_notification(message="web restarted <4> times & more")
    email = render_digest([item], T0 + 5, held_back={"web-1": 2}, limit_per_hour=10)
    for body in (email.text, email.html):
        assert "web-1" in body
        assert "203.0.113.10" in body
        assert "shop / production / web" in body
        assert "restart loop of shop / production / web" in body
        assert "2027-01-15 07:50:00 UTC (for 10 min)" in body  # since, and for how long
        assert "4 restarts (threshold 3 restarts)" in body
        assert "2 more notifications about web-1 in the last hour were held back" in body
        assert "limit: 10 per server per hour" in body
    assert "web restarted <4> times & more" in email.text
    assert "web restarted &lt;4&gt; times &amp; more" in email.html
    assert "<4>" not in email.html


def test_app_and_value_are_left_out_when_unknown() -> None:
    item = make_notification(app=None, value=None, threshold=None, unit="")
    email = render_digest([item], T0)
    assert "App:" not in email.text
    assert "Value:" not in email.text
    assert ">App<" not in email.html


def test_values_read_naturally() -> None:
    assert value_text(make_notification(value=97.25, threshold=95.0, unit="%")) == (
        "97.2 % (threshold 95 %)"
    )
    assert value_text(make_notification(value=3.0, threshold=None, unit="h")) == "3 h"


def test_a_resolved_item_says_how_long_it_lasted() -> None:
    item = make_notification(kind=NotificationKind.RESOLVED, since=T0 - 7200)
    assert "(lasted 2 h 0 min)" in render_digest([item], T0).text


@given(st.text(), st.text())
def test_the_subject_is_always_one_header_line(title: str, host: str) -> None:
    subject = digest_subject([make_notification(title=title, host_name=host)])
    assert subject.startswith("[VPS Health] CRITICAL")
    assert not any(ch in subject for ch in "\r\n\x00")
    assert len(subject) <= 200


def test_a_digest_is_named_after_what_an_incident_became() -> None:
    crash_then_worse = [
        make_notification(rule="crashed", title="shop crashed", incident_id=7, at=T0),
        make_notification(
            kind=NotificationKind.ESCALATED, title="restart loop of shop", incident_id=7, at=T0 + 4
        ),
    ]
    assert digest_subject(crash_then_worse) == (
        "[VPS Health] CRITICAL web-1: restart loop of shop (+1 more)"
    )


def test_the_last_log_lines_follow_the_incident_in_a_monospace_block() -> None:
    lines = "starting web\n<script>alert(1)</script> & more\nfatal: giving up"
    email = render_digest([make_notification(log_lines=lines)], T0)
    after = email.text.split("  Raised:  ")[1]
    assert "  Last log lines:\n    starting web\n" in after
    assert "    <script>alert(1)</script> & more\n    fatal: giving up\n" in after
    assert '<pre style="font-family: monospace;' in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more\nfatal: giving up</pre>" in email.html
    assert "<script>" not in email.html
    assert email.html.index("Raised") < email.html.index("<pre")


def test_no_log_block_without_lines_nor_in_a_resolution() -> None:
    for item in (
        make_notification(),
        make_notification(kind=NotificationKind.RESOLVED, log_lines="fatal: giving up"),
    ):
        email = render_digest([item], T0)
        assert "Last log lines" not in email.text
        assert "<pre" not in email.html

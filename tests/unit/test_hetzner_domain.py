"""Hetzner Cloud in the domain: the reason a server is down, labels as tags, the SSH address,
and how often the API may be asked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.domain.hetzner import (
    ASK_INTERVAL_SECONDS,
    MAX_BACKOFF_SECONDS,
    AskPacing,
    CloudServer,
    ProjectAnswer,
    ServerStatus,
    down_reason,
    ssh_address,
    tags_from_labels,
    with_reason,
)
from vpshealth.domain.hosts import check_tag


def server(status: str = "running", **fields: object) -> CloudServer:
    return CloudServer(id=7, name="web1", status=status, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("off", "powered off (Hetzner Cloud)"),
        ("stopping", "shutting down (Hetzner Cloud)"),
        ("deleting", "being deleted (Hetzner Cloud)"),
        ("rebuilding", "being rebuilt (Hetzner Cloud)"),
        ("migrating", "migrating to another physical host (Hetzner Cloud)"),
        ("starting", "starting (Hetzner Cloud)"),
        ("initializing", "starting (Hetzner Cloud)"),
        ("unknown", "in an unknown state (Hetzner Cloud)"),
        ("running", None),
    ],
)
def test_each_status_names_its_reason(status: str, reason: str | None) -> None:
    assert down_reason(server(status), "web") == reason


def test_every_documented_status_is_mapped() -> None:
    for status in ServerStatus:
        if status is not ServerStatus.RUNNING:
            assert down_reason(server(status.value), "web") is not None


def test_a_server_gone_from_the_project_is_named_deleted() -> None:
    assert down_reason(None, "web") == "deleted from the project web (Hetzner Cloud)"


def test_rescue_mode_explains_why_nothing_is_run() -> None:
    reason = down_reason(server(rescue_enabled=True), "web")
    assert reason is not None
    assert reason.startswith("in rescue mode (Hetzner Cloud)")
    assert "host key of its own" in reason
    assert "runs anything" in reason


def test_a_locked_running_server_is_locked_but_off_wins() -> None:
    assert down_reason(server(locked=True), "web") == "locked by a running action (Hetzner Cloud)"
    assert down_reason(server("off", locked=True), "web") == "powered off (Hetzner Cloud)"


def test_the_reason_comes_first_in_the_message() -> None:
    assert with_reason("connection refused", "powered off (Hetzner Cloud)") == (
        "powered off (Hetzner Cloud): connection refused"
    )


def test_the_ssh_address_is_ipv4_else_the_first_ipv6_address() -> None:
    assert ssh_address(server(ipv4="203.0.113.5", ipv6_network="2001:db8::/64")) == "203.0.113.5"
    assert ssh_address(server(ipv6_network="2001:db8:1:2::/64")) == "2001:db8:1:2::1"
    assert ssh_address(server()) is None


def test_labels_become_tags() -> None:
    tags = tags_from_labels({"env": "prod", "example.com/role": "web", "managed": ""})
    assert tags.tags == ("env:prod", "example.com.role:web", "managed")
    assert tags.dropped == ()


def test_a_label_too_long_for_a_tag_is_dropped_and_named() -> None:
    tags = tags_from_labels({"owner": "a" * 40, "env": "prod"})
    assert tags.tags == ("env:prod",)
    assert tags.dropped == ("owner=" + "a" * 40,)


_LABEL_CHARS = st.text(st.sampled_from("abcxyzABC0123456789-_."), min_size=0, max_size=63).filter(
    lambda s: not s or (s[0].isalnum() and s[-1].isalnum())
)
_KEYS = st.builds(
    lambda prefix, name: f"{prefix}/{name}" if prefix else name,
    st.sampled_from(["", "example.com", "k8s.io"]),
    _LABEL_CHARS.filter(bool),
)


@given(st.dictionaries(_KEYS, _LABEL_CHARS, max_size=8))
def test_every_label_becomes_a_valid_tag_or_is_named_as_dropped(labels: dict[str, str]) -> None:
    result = tags_from_labels(labels)
    for tag in result.tags:
        assert check_tag(tag) == tag
    assert len(result.dropped) + len(result.tags) <= len(labels)
    kept = {f"{k}={v}" for k, v in labels.items()} - set(result.dropped)
    assert len(kept) >= len(result.tags)
    assert all(d in {f"{k}={v}" for k, v in labels.items()} for d in result.dropped)
    for key, value in labels.items():
        tag = (f"{key}:{value}" if value else key).replace("/", ".")
        assert (tag in result.tags) != (f"{key}={value}" in result.dropped)


def test_a_project_is_asked_at_most_once_a_minute() -> None:
    pacing = AskPacing()
    assert pacing.due(1000.0)
    pacing.asked(1000.0)
    pacing.answered()
    assert not pacing.due(1000.0 + ASK_INTERVAL_SECONDS - 1)
    assert pacing.due(1000.0 + ASK_INTERVAL_SECONDS)


def test_a_refusal_waits_for_the_reset_time() -> None:
    pacing = AskPacing()
    pacing.asked(1000.0)
    pacing.refused(1000.0, reset_at=1500.0)
    assert not pacing.due(1499.0)
    assert pacing.due(1500.0)


def test_a_refusal_without_a_reset_time_waits_the_longest_pause() -> None:
    pacing = AskPacing()
    pacing.asked(1000.0)
    pacing.refused(1000.0, reset_at=None)
    assert not pacing.due(1000.0 + MAX_BACKOFF_SECONDS - 1)
    assert pacing.due(1000.0 + MAX_BACKOFF_SECONDS)


def test_an_outage_is_asked_again_with_growing_pauses() -> None:
    pacing = AskPacing()
    pauses = []
    now = 0.0
    for _ in range(7):
        pacing.asked(now)
        pacing.failed(now)
        pauses.append(pacing.not_before - now)
        now = pacing.not_before
    assert pauses == [60.0, 120.0, 240.0, 480.0, 900.0, 900.0, 900.0]
    pacing.answered()
    assert pacing.due(now + ASK_INTERVAL_SECONDS)


def test_an_old_answer_is_not_used() -> None:
    answer = ProjectAnswer.of(1000.0, [server()])
    assert answer.servers[7].name == "web1"
    assert answer.fresh(1180.0)
    assert not answer.fresh(1181.0)

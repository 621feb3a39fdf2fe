"""An open unreachable or host key incident takes the reason Hetzner Cloud gives once it is
known: the text is updated, no second incident opens and nothing is notified again."""

from __future__ import annotations

from tests.unit.alert_builders import CRITICAL, T0, failed
from vpshealth.domain.alert_conditions import HostConditions
from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.health import Problem
from vpshealth.domain.incident_lifecycle import IncidentBook, Outcome, Policy

RULES = RuleSet()
REFUSED = "web1 refused the connection"
OFF = f"powered off (Hetzner Cloud): {REFUSED}"


def test_the_reason_updates_the_open_unreachable_incident_once() -> None:
    c = HostConditions()
    book = IncidentBook()
    outcome = Outcome()
    messages = [REFUSED, REFUSED, REFUSED, OFF, OFF, "timed out", OFF]
    for i, message in enumerate(messages):
        for change in c.observe(failed(T0 + i * 15, Problem.UNREACHABLE, message), RULES):
            outcome.extend(book.apply(1, change, Policy()))
    [incident] = book.open_incidents()
    assert incident.message == f"{OFF} (4 checks in a row)"
    assert incident.severity is CRITICAL
    assert [n.kind.value for n in outcome.notices] == ["opened"]
    assert [w.kind.value for w in outcome.writes] == ["open", "update"]


def test_rescue_mode_updates_the_host_key_incident() -> None:
    c = HostConditions()
    changed = "the host key changed"
    rescue = f"in rescue mode (Hetzner Cloud): the rescue system has ...: {changed}"
    first = c.observe(failed(T0, Problem.HOST_KEY_MISMATCH, changed), RULES)
    assert [ch.message for ch in first] == [changed]
    later = c.observe(failed(T0 + 15, Problem.HOST_KEY_MISMATCH, rescue), RULES)
    assert [(ch.rule, ch.severity, ch.message) for ch in later] == [("host_key", CRITICAL, rescue)]
    assert c.observe(failed(T0 + 30, Problem.HOST_KEY_MISMATCH, rescue), RULES) == []


def test_after_a_restart_the_first_message_is_taken_as_shown() -> None:
    c = HostConditions()
    c.restore({("unreachable", ""): CRITICAL})
    assert c.observe(failed(T0, Problem.UNREACHABLE, REFUSED), RULES) == []
    [update] = c.observe(failed(T0 + 15, Problem.UNREACHABLE, OFF), RULES)
    assert update.message.startswith(OFF)

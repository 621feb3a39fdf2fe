"""Rules, acknowledgements, snoozes, maintenance windows and e-mail settings as operations:
errors name the field, nothing is stored when one is not valid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from vpshealth.app import Core
from vpshealth.domain.hosts import LOCAL_HOST_NAME
from vpshealth.errors import InputError
from vpshealth.operations.errors import FieldError, NotFoundError, NothingToChangeError
from vpshealth.operations.incidents import AckOutcome
from vpshealth.operations.rules import RuleConflictError
from vpshealth.store.schema import incidents

from .fake_clock import FakeClock
from .operations_support import MemoryKeyring, make_core

NOW = 1_800_000_000


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    built = make_core(tmp_path, MemoryKeyring())
    built.clock = FakeClock(NOW)
    try:
        yield built
    finally:
        built.close()


# --- rules ---


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"cpu.warning": "150"}, "rules.cpu.warning", "between 1% and 100%"),
        ({"cpu.warning": 150}, "rules.cpu.warning", "between 1% and 100%"),
        ({"bogus": "1"}, "rules.bogus", "unknown rule 'bogus'"),
        ({"bogus": None}, "rules.bogus", "unknown rule 'bogus'"),
        ({"unreachable.polls": 2.5}, "rules.unreachable.polls", "whole number"),
        ({"containers": "maybe"}, "rules.containers", "on or off"),
    ],
)
def test_rule_errors_name_the_rule(
    core: Core, changes: dict[str, object], field: str, problem: str
) -> None:
    rules = core.operations.rules
    with pytest.raises(FieldError) as info:
        rules.change(None, changes)  # type: ignore[arg-type]
    assert info.value.field == field
    assert problem in str(info.value)
    assert str(info.value).endswith("Nothing was saved.")
    assert rules.show().own == {}


def test_contradicting_rules_are_refused_as_a_whole(core: Core) -> None:
    rules = core.operations.rules
    with pytest.raises(RuleConflictError) as info:
        rules.change(LOCAL_HOST_NAME, {"cpu.minutes": 10, "disk.warning": "99"})
    assert info.value.field == "rules.disk.warning"
    assert info.value.problems == ["disk.warning (99%) is above disk.critical (95%)"]
    assert rules.show(LOCAL_HOST_NAME).own == {}


def test_rules_set_and_reset_per_host_and_by_default(core: Core) -> None:
    rules = core.operations.rules
    view = rules.change(None, {"cpu.warning": 90, "containers": False})
    assert (view.changed, view.own) == (2, {"cpu.warning": 90.0, "containers": 0.0})
    host = rules.change(LOCAL_HOST_NAME, {"disk.warning": "80%"})
    assert host.own == {"disk.warning": 80.0}
    assert host.effective["cpu.warning"] == 90.0
    assert rules.change(LOCAL_HOST_NAME, {"disk.warning": None}).own == {}
    with pytest.raises(NotFoundError, match="no host named 'web9'"):
        rules.show("web9")


# --- acknowledgements ---


def _incident(core: Core, *, resolved: bool = False) -> int:
    with core.engine.begin() as conn:
        result = conn.execute(
            insert(incidents).values(
                host_id=1, kind="disk", subject="/", container_id="", container_name="",
                severity="critical", opened_at=NOW - 600, message="disk / at 97%", value=97,
                threshold=95, resolved_at=NOW - 60 if resolved else None,
            )
        )  # fmt: skip
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def test_acknowledge_says_what_became_of_each_id(core: Core) -> None:
    open_id, resolved_id = _incident(core), _incident(core, resolved=True)
    done = core.operations.incidents.acknowledge([open_id, open_id, resolved_id, 999])
    assert [r.outcome for r in done.results] == [
        AckOutcome.ACKNOWLEDGED,
        AckOutcome.ALREADY_ACKNOWLEDGED,
        AckOutcome.RESOLVED,
        AckOutcome.UNKNOWN,
    ]
    error = done.error()
    assert isinstance(error, NotFoundError)
    assert str(error) == (
        f"Incident {resolved_id} is already resolved; there is no incident 999. "
        "`vpshealth incidents --open` lists them."
    )
    assert core.incidents.get(open_id).acknowledged_at == NOW  # type: ignore[union-attr]
    assert core.operations.incidents.acknowledge([]).error() is None


# --- snoozes and maintenance windows ---


def test_snooze_and_end_it(core: Core) -> None:
    silences = core.operations.silences
    assert silences.snooze(LOCAL_HOST_NAME, "2h", "deploy") == NOW + 7200
    assert silences.snooze_until(None, NOW + 60) == NOW + 60
    assert [w.host_name for w in silences.windows()] == [LOCAL_HOST_NAME, None]
    assert silences.end_snooze(LOCAL_HOST_NAME) == 1
    with pytest.raises(FieldError) as info:
        silences.snooze(None, "soon")
    assert (info.value.field, info.value.worded("DURATION")) == (
        "duration",
        "invalid DURATION 'soon': use a number with m, h, d or w, e.g. 90m or 2h",
    )
    with pytest.raises(FieldError, match="until"):
        silences.snooze_until(None, NOW - 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"duration": "0m", "weekly": "sun 03:00"}, "duration"),
        ({"duration": "30s", "start": "now"}, "duration"),
        ({"duration": "8d", "weekly": "sun 03:00"}, "duration"),
        ({"duration": "1h", "weekly": "someday 03:00"}, "weekly"),
        ({"duration": "1h", "start": "tomorrow"}, "start"),
        ({"duration": "1h"}, "start"),
        ({"duration": "1h", "start": "now", "weekly": "sun 03:00"}, "start"),
    ],
)
def test_window_errors_name_the_field(core: Core, kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(FieldError) as info:
        core.operations.silences.add_window(LOCAL_HOST_NAME, **kwargs)
    assert info.value.field == field
    assert core.operations.silences.windows() == []


def test_windows_one_off_and_weekly(core: Core) -> None:
    silences = core.operations.silences
    once = silences.add_window(None, duration="2h", start=NOW + 60, reason="upgrade")
    assert (once.silence.starts_at, once.silence.ends_at, once.active) == (
        NOW + 60,
        NOW + 7260,
        False,
    )
    weekly = silences.add_window(LOCAL_HOST_NAME, duration="1h", weekly="sun 03:00")
    assert weekly.when == "every Sun 03:00 for 1h 0m"
    assert [w.silence.id for w in silences.windows(LOCAL_HOST_NAME)] == [
        once.silence.id,
        weekly.silence.id,
    ]
    silences.remove_window(once.silence.id)
    with pytest.raises(NotFoundError, match=f"There is no window {once.silence.id}"):
        silences.remove_window(once.silence.id)


# --- e-mail settings ---


def test_email_settings_are_checked_before_anything_is_stored(core: Core) -> None:
    email = core.operations.email
    with pytest.raises(InputError, match=r"email\.smtp_port.*Nothing was saved\.$"):
        email.change({"smtp_host": "smtp.example.com", "smtp_port": "x"}, "pw")
    assert core.stored_settings.with_prefix("email.") == {}
    assert core.secrets.get("smtp/password") is None
    with pytest.raises(NothingToChangeError):
        email.change({})


def test_email_settings_stored_shown_and_cleared(core: Core) -> None:
    email = core.operations.email
    saved = email.change(
        {"smtp_host": "smtp.example.com", "user": "me", "from": "a@example.com", "to": ["b@x.io"]},
        "pw",
    )
    assert saved.password_stored
    assert saved.config.problem is None
    view = email.show()
    assert view.configured
    assert view.password == "set (OS keyring)"
    by_name = {s.setting: (s.value, s.source) for s in view.settings}
    assert by_name["email.smtp_host"] == ("smtp.example.com", "stored")
    assert by_name["email.smtp_port"] == (587, "default")
    email.clear()
    assert core.stored_settings.with_prefix("email.") == {}
    assert core.secrets.get("smtp/password") is None
    assert not email.show().configured


def test_a_closed_incident_is_not_acknowledged(core: Core) -> None:
    incident_id = _incident(core)
    with core.engine.begin() as conn:
        conn.execute(update(incidents).values(resolved_at=NOW))
    done = core.operations.incidents.acknowledge([incident_id])
    assert done.results[0].outcome is AckOutcome.RESOLVED
    assert not isinstance(done.error(), NotFoundError)

"""Alert rules: the specs and their defaults, parsing typed text, layering and contradictions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.domain.alert_rules import (
    DEFAULT_VALUES,
    RULE_SPECS,
    RuleSet,
    RuleType,
    RuleValueError,
    format_value,
    parse_rule_value,
)

EXPECTED_DEFAULTS = {
    "cpu.warning": 85,
    "cpu.critical": 95,
    "cpu.minutes": 5,
    "memory.warning": 85,
    "memory.critical": 95,
    "memory.minutes": 5,
    "disk.warning": 85,
    "disk.critical": 95,
    "disk_forecast.hours": 24,
    "disk_forecast.critical_hours": 4,
    "load.warning": 2,
    "load.critical": 4,
    "load.minutes": 10,
    "unreachable.polls": 3,
    "containers": 1,
    "containers.logs": 1,
    "hysteresis": 5,
    "reminder.hours": 4,
    "flapping.cycles": 3,
    "flapping.minutes": 30,
}

# --- specs and defaults -------------------------------------------------------------------


def test_defaults_are_the_documented_ones() -> None:
    assert DEFAULT_VALUES == EXPECTED_DEFAULTS
    assert RuleSet().as_dict() == EXPECTED_DEFAULTS


@pytest.mark.parametrize("name", sorted(RULE_SPECS))
def test_every_default_is_allowed_by_its_own_spec(name: str) -> None:
    spec = RULE_SPECS[name]
    assert spec.name == name
    assert spec.minimum <= spec.default <= spec.maximum
    assert parse_rule_value(name, format_value(name, spec.default)) == spec.default
    if spec.type is not RuleType.NUMBER:
        assert float(spec.default).is_integer()


def test_counts_and_switches_are_typed_as_such() -> None:
    counts = {n for n, s in RULE_SPECS.items() if s.type is RuleType.COUNT}
    switches = {n for n, s in RULE_SPECS.items() if s.type is RuleType.SWITCH}
    assert counts == {"unreachable.polls", "flapping.cycles"}
    assert switches == {"containers", "containers.logs"}


def test_default_rules_have_no_problems() -> None:
    assert RuleSet().problems() == []


# --- layering -----------------------------------------------------------------------------


def test_stored_defaults_then_host_overrides() -> None:
    stored = {"cpu.warning": 70.0, "cpu.minutes": 2.0}
    host = {"cpu.warning": 60.0, "disk.warning": 75.0}
    rules = RuleSet(stored, host)
    assert rules["cpu.warning"] == 60.0  # the host wins over the stored default
    assert rules["cpu.minutes"] == 2.0  # the stored default wins over the built-in one
    assert rules["disk.warning"] == 75.0
    assert rules["cpu.critical"] == 95  # untouched built-in default
    assert rules.as_dict() == EXPECTED_DEFAULTS | {
        "cpu.warning": 60.0,
        "cpu.minutes": 2.0,
        "disk.warning": 75.0,
    }


def test_layers_apply_in_order() -> None:
    assert RuleSet({"hysteresis": 1.0}, {"hysteresis": 2.0})["hysteresis"] == 2.0
    assert RuleSet({"hysteresis": 2.0}, {"hysteresis": 1.0})["hysteresis"] == 1.0


def test_unknown_names_in_layers_are_ignored() -> None:
    rules = RuleSet({"cpu.warnign": 10.0, "gpu.warning": 50.0})
    assert rules == RuleSet()
    assert "cpu.warnign" not in rules.as_dict()
    with pytest.raises(KeyError):
        rules["gpu.warning"]


def test_as_dict_is_a_copy() -> None:
    rules = RuleSet()
    values = rules.as_dict()
    values["cpu.warning"] = 1.0
    assert rules["cpu.warning"] == 85


def test_equality_and_hash_follow_the_values() -> None:
    a = RuleSet({"cpu.warning": 70.0})
    b = RuleSet({}, {"cpu.warning": 70.0})
    assert a == b
    assert hash(a) == hash(b)
    assert a != RuleSet()
    assert a != {"cpu.warning": 70.0}
    assert len({a, b, RuleSet()}) == 2
    assert repr(a).startswith("RuleSet({")
    assert "'cpu.warning': 70.0" in repr(a)


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("cpu.warning", "90", 90.0),
        ("cpu.warning", "90%", 90.0),
        ("cpu.warning", "90.5%", 90.5),
        ("cpu.warning", "90 %", 90.0),
        ("cpu.warning", "  75  ", 75.0),
        ("cpu.warning", "1", 1.0),
        ("cpu.warning", "100", 100.0),
        ("cpu.minutes", "0", 0.0),
        ("cpu.minutes", "1440", 1440.0),
        ("load.warning", "0.1", 0.1),
        ("load.critical", "1e3", 1000.0),
        ("disk_forecast.hours", "0", 0.0),
        ("unreachable.polls", "5", 5.0),
        ("unreachable.polls", "5.0", 5.0),
        ("flapping.cycles", "100", 100.0),
        ("hysteresis", "2.5%", 2.5),
    ],
)
def test_parse_numbers(name: str, text: str, expected: float) -> None:
    assert parse_rule_value(name, text) == expected


@pytest.mark.parametrize("text", ["on", "ON", " yes ", "true", "True", "1"])
def test_parse_switch_on(text: str) -> None:
    assert parse_rule_value("containers", text) == 1.0


@pytest.mark.parametrize("text", ["off", "Off", "no", "false", "0", " FALSE"])
def test_parse_switch_off(text: str) -> None:
    assert parse_rule_value("containers", text) == 0.0


@pytest.mark.parametrize("text", ["maybe", "", "2", "enabled"])
def test_switch_errors_name_the_rule_and_on_off(text: str) -> None:
    with pytest.raises(RuleValueError) as caught:
        parse_rule_value("containers", text)
    assert str(caught.value) == f"rule 'containers' is on or off, not '{text}'"


def test_unknown_rule_lists_the_known_ones() -> None:
    with pytest.raises(RuleValueError) as caught:
        parse_rule_value("cpu.warnign", "90")
    message = str(caught.value)
    assert message.startswith("unknown rule 'cpu.warnign'; known rules: cpu.warning, ")
    for name in RULE_SPECS:
        assert name in message


@pytest.mark.parametrize("text", ["abc", "", "   ", "90%%", "%", "ninety", "9 0"])
def test_not_a_number(text: str) -> None:
    with pytest.raises(RuleValueError) as caught:
        parse_rule_value("cpu.warning", text)
    assert str(caught.value) == f"rule 'cpu.warning' needs a number, not '{text}'"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("cpu.warning", "101", "rule 'cpu.warning' must be between 1% and 100%, not '101'"),
        ("cpu.warning", "0", "rule 'cpu.warning' must be between 1% and 100%, not '0'"),
        ("cpu.warning", "-5%", "rule 'cpu.warning' must be between 1% and 100%, not '-5%'"),
        ("cpu.minutes", "1441", "rule 'cpu.minutes' must be between 0 and 1440, not '1441'"),
        ("load.warning", "0.05", "rule 'load.warning' must be between 0.1 and 1000, not '0.05'"),
        ("hysteresis", "51", "rule 'hysteresis' must be between 0% and 50%, not '51'"),
        (
            "unreachable.polls",
            "0",
            "rule 'unreachable.polls' must be between 1 and 1000, not '0'",
        ),
        ("cpu.warning", "nan", "rule 'cpu.warning' must be between 1% and 100%, not 'nan'"),
        ("cpu.warning", "inf", "rule 'cpu.warning' must be between 1% and 100%, not 'inf'"),
        ("cpu.minutes", "-inf", "rule 'cpu.minutes' must be between 0 and 1440, not '-inf'"),
    ],
)
def test_out_of_range_names_the_rule_and_the_range(name: str, text: str, message: str) -> None:
    with pytest.raises(RuleValueError) as caught:
        parse_rule_value(name, text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("name", "text"),
    [("unreachable.polls", "2.5"), ("flapping.cycles", "3.1")],
)
def test_counts_need_whole_numbers(name: str, text: str) -> None:
    with pytest.raises(RuleValueError) as caught:
        parse_rule_value(name, text)
    assert str(caught.value) == f"rule '{name}' needs a whole number, not '{text}'"


@pytest.mark.parametrize(
    ("name", "text"), [("unreachable.polls", "3%"), ("cpu.minutes", "5%"), ("cpu.warning", "1_000")]
)
def test_percent_signs_only_on_percent_rules_and_no_underscores(name: str, text: str) -> None:
    with pytest.raises(RuleValueError) as caught:
        parse_rule_value(name, text)
    assert str(caught.value) == f"rule '{name}' needs a number, not '{text}'"


def test_forecast_levels_must_be_in_order() -> None:
    rules = RuleSet({"disk_forecast.hours": 4, "disk_forecast.critical_hours": 12})
    assert rules.problems() == [
        "disk_forecast.critical_hours (12) is above disk_forecast.hours (4)"
    ]
    assert RuleSet({"disk_forecast.hours": 0, "disk_forecast.critical_hours": 12}).problems() == []


def test_rule_value_error_is_a_value_error() -> None:
    assert issubclass(RuleValueError, ValueError)


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("cpu.warning", 85.0, "85%"),
        ("cpu.warning", 85.5, "85.5%"),
        ("cpu.minutes", 5.0, "5"),
        ("load.warning", 0.1, "0.1"),
        ("unreachable.polls", 3.0, "3"),
        ("containers", 1.0, "on"),
        ("containers", 0.0, "off"),
        ("hysteresis", 5.0, "5%"),
    ],
)
def test_format_value(name: str, value: float, shown: str) -> None:
    assert format_value(name, value) == shown


# --- contradictions -----------------------------------------------------------------------


def test_problems_report_warning_above_critical() -> None:
    rules = RuleSet({"cpu.warning": 96.0, "load.warning": 5.0, "disk.warning": 95.0})
    assert rules.problems() == [
        "cpu.warning (96%) is above cpu.critical (95%)",
        "load.warning (5) is above load.critical (4)",
    ]


def test_problems_every_metric() -> None:
    rules = RuleSet(
        {
            "cpu.warning": 90.0,
            "cpu.critical": 80.0,
            "memory.warning": 90.0,
            "memory.critical": 80.0,
            "disk.warning": 90.0,
            "disk.critical": 80.0,
            "load.warning": 3.0,
            "load.critical": 2.5,
        }
    )
    assert rules.problems() == [
        "cpu.warning (90%) is above cpu.critical (80%)",
        "memory.warning (90%) is above memory.critical (80%)",
        "disk.warning (90%) is above disk.critical (80%)",
        "load.warning (3) is above load.critical (2.5)",
    ]


def test_equal_warning_and_critical_is_no_problem() -> None:
    assert RuleSet({"memory.warning": 95.0}).problems() == []


# --- properties ---------------------------------------------------------------------------


@given(name=st.sampled_from(sorted(RULE_SPECS)), text=st.text(max_size=40))
def test_parse_raises_only_rule_value_error(name: str, text: str) -> None:
    try:
        value = parse_rule_value(name, text)
    except RuleValueError:
        return
    spec = RULE_SPECS[name]
    assert math.isfinite(value)
    assert spec.minimum <= value <= spec.maximum
    if spec.type is not RuleType.NUMBER:
        assert value.is_integer()


@given(
    name=st.sampled_from(sorted(RULE_SPECS)),
    text=st.one_of(
        st.from_regex(r"\A\s*[-+]?[0-9]{0,5}(\.[0-9]{0,3})?(e[-+]?[0-9]{1,3})?%?\s*\Z"),
        st.sampled_from(["nan", "inf", "-inf", "1_0", "0x10", "on", "off", "\x00", "١٢"]),
    ),
)
def test_parse_numberlike_text_raises_only_rule_value_error(name: str, text: str) -> None:
    try:
        value = parse_rule_value(name, text)
    except RuleValueError:
        return
    spec = RULE_SPECS[name]
    assert spec.minimum <= value <= spec.maximum


@given(name=st.text(max_size=20), text=st.text(max_size=20))
def test_parse_of_any_name_raises_only_rule_value_error(name: str, text: str) -> None:
    try:
        parse_rule_value(name, text)
    except RuleValueError:
        return
    assert name in RULE_SPECS


@given(
    name=st.sampled_from(sorted(n for n, s in RULE_SPECS.items() if s.type is RuleType.NUMBER)),
    fraction=st.floats(0, 1),
)
def test_formatted_numbers_parse_back_close(name: str, fraction: float) -> None:
    spec = RULE_SPECS[name]
    value = spec.minimum + fraction * (spec.maximum - spec.minimum)
    parsed = parse_rule_value(name, format_value(name, value))
    assert parsed == pytest.approx(value, rel=1e-5)

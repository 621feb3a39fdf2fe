"""Alert rules of a host or the defaults: read, set and reset, checked as a whole before
anything is stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vpshealth.clock import Clock
from vpshealth.domain.alert_rules import RULE_SPECS, RuleSet, RuleValueError, parse_rule_value
from vpshealth.operations.errors import FieldError
from vpshealth.operations.hosts import HostOperations
from vpshealth.store.rule_repository import RuleRepository

RuleInput = float | int | bool | str | None
"""A rule's new value as given (text is parsed as the CLI's ``--set``); None resets it."""


def rule_field(name: str) -> str:
    return f"rules.{name}"


class RuleConflictError(FieldError):
    """The rules would contradict each other, e.g. a warning level above the critical one."""

    def __init__(self, field: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(field, "; ".join(problems))


@dataclass(frozen=True, slots=True)
class RulesView:
    host_name: str | None
    """None: the defaults for every host."""
    effective: RuleSet
    own: dict[str, float]
    """What is set here: for a host its overrides, for the defaults those changed."""
    changed: int = 0


class RuleOperations:
    def __init__(
        self,
        rules: RuleRepository,
        hosts: HostOperations,
        base: Mapping[str, float],
        clock: Clock,
    ) -> None:
        self._rules = rules
        self._hosts = hosts
        self._base = dict(base)
        self._clock = clock

    def _host(self, host_name: str | None) -> int | None:
        return None if host_name is None else self._hosts.get(host_name).id

    def show(self, host_name: str | None = None) -> RulesView:
        host_id = self._host(host_name)
        return RulesView(
            host_name,
            self._rules.rules_for(host_id, self._base),
            self._rules.overrides_of(host_id),
        )

    def change(self, host_name: str | None, changes: Mapping[str, RuleInput]) -> RulesView:
        """Set (or, with None, reset) rules of a host or the defaults. Raises FieldError
        naming the rule (``rules.cpu.warning``); nothing is stored then."""
        host_id = self._host(host_name)
        values = {name: _parsed(name, value) for name, value in changes.items()}
        defaults, overrides = self._rules.stored()
        mine = dict(defaults if host_id is None else overrides.get(host_id, {}))
        for name, value in values.items():
            if value is None:
                mine.pop(name, None)
            else:
                mine[name] = value
        merged = (
            RuleSet(self._base, mine) if host_id is None else RuleSet(self._base, defaults, mine)
        )
        problems = merged.problems()
        if problems:
            named = [n for n in values if any(n in p for p in problems)] or list(values)
            raise RuleConflictError(rule_field(named[0]), problems)
        if values:
            self._rules.update(host_id, values, int(self._clock.now()))
        view = self.show(host_name)
        return RulesView(view.host_name, view.effective, view.own, len(values))


def _parsed(name: str, value: RuleInput) -> float | None:
    if value is None:
        if name not in RULE_SPECS:
            raise FieldError(rule_field(name), f"unknown rule '{name}'")
        return None
    text = ("on" if value else "off") if isinstance(value, bool) else str(value)
    try:
        return parse_rule_value(name, text)
    except RuleValueError as exc:
        raise FieldError(rule_field(name), str(exc)) from None

"""Alert rules: their names, defaults and allowed values, and one host's effective set."""

from __future__ import annotations

import math
from collections.abc import Mapping

from vpshealth.domain.metric_catalog import LEVELLED
from vpshealth.domain.rule_spec import RuleSpec, RuleType

_GENERAL_SPECS = (
    RuleSpec(
        "unreachable.polls", RuleType.COUNT, 3, 1, 1000, "polls",
        "consecutive failed checks before the host counts as down",
    ),
    RuleSpec(
        "containers", RuleType.SWITCH, 1, 0, 1, "",
        "alert on container incidents (crash, restart loop, OOM kill, unhealthy, Docker down)",
    ),
    RuleSpec(
        "containers.logs", RuleType.SWITCH, 1, 0, 1, "",
        "put a crashed container's last log lines into its incident and e-mail (logs can hold "
        "secrets)",
    ),
    RuleSpec(
        "hysteresis", RuleType.NUMBER, 5, 0, 50, "%",
        "recover only below the threshold less this share of it",
    ),
    RuleSpec(
        "reminder.hours", RuleType.NUMBER, 4, 0, 720, "h",
        "remind while an incident stays open (0 = never)",
    ),
    RuleSpec(
        "flapping.cycles", RuleType.COUNT, 3, 1, 100, "",
        "more open/resolve cycles than this within flapping.minutes count as flapping",
    ),
    RuleSpec("flapping.minutes", RuleType.NUMBER, 30, 1, 1440, "min", "the flapping window"),
)  # fmt: skip

_SPECS = (*(spec for metric in LEVELLED for spec in metric.rule_specs()), *_GENERAL_SPECS)
"""The rules of each metric with levels (see ``metric_catalog``), then those of the host."""

RULE_SPECS: dict[str, RuleSpec] = {spec.name: spec for spec in _SPECS}
DEFAULT_VALUES: dict[str, float] = {spec.name: spec.default for spec in _SPECS}

_TRUE = {"on", "yes", "true", "1"}
_FALSE = {"off", "no", "false", "0"}


class RuleValueError(ValueError):
    """A rule name or value that cannot be used; the message says why and what is allowed."""


def parse_rule_value(name: str, text: str) -> float:
    spec = RULE_SPECS.get(name)
    if spec is None:
        raise RuleValueError(f"unknown rule '{name}'; known rules: {', '.join(RULE_SPECS)}")
    raw = text.strip().lower()
    if spec.type is RuleType.SWITCH:
        if raw in _TRUE:
            return 1.0
        if raw in _FALSE:
            return 0.0
        raise RuleValueError(f"rule '{name}' is on or off, not '{text}'")
    number = raw.removesuffix("%") if spec.unit == "%" else raw
    try:
        if "_" in number:
            raise ValueError(number)
        value = float(number)
    except ValueError:
        raise RuleValueError(f"rule '{name}' needs a number, not '{text}'") from None
    if not math.isfinite(value) or not spec.minimum <= value <= spec.maximum:
        raise RuleValueError(
            f"rule '{name}' must be between {format_value(name, spec.minimum)} and "
            f"{format_value(name, spec.maximum)}, not '{text}'"
        )
    if spec.type is RuleType.COUNT and not value.is_integer():
        raise RuleValueError(f"rule '{name}' needs a whole number, not '{text}'")
    return value


def format_value(name: str, value: float) -> str:
    spec = RULE_SPECS[name]
    if spec.type is RuleType.SWITCH:
        return "on" if value else "off"
    text = f"{value:g}"
    return f"{text}{spec.unit}" if spec.unit == "%" else text


class RuleSet:
    """The rules that apply to one host: defaults, then stored defaults, then the host's own."""

    __slots__ = ("_values",)

    def __init__(self, *layers: Mapping[str, float]) -> None:
        values = dict(DEFAULT_VALUES)
        for layer in layers:
            values.update({k: v for k, v in layer.items() if k in RULE_SPECS})
        self._values = values

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleSet) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:
        return f"RuleSet({self._values!r})"

    def as_dict(self) -> dict[str, float]:
        return dict(self._values)

    def problems(self) -> list[str]:
        """Contradictions between rules, e.g. a warning level above the critical one."""
        found = []
        for metric in LEVELLED:
            warning, critical = metric.rule("warning"), metric.rule("critical")
            if self[warning] > self[critical]:
                found.append(
                    f"{warning} ({format_value(warning, self[warning])}) is above {critical} "
                    f"({format_value(critical, self[critical])})"
                )
        hours, critical_hours = "disk_forecast.hours", "disk_forecast.critical_hours"
        if self[hours] and self[critical_hours] > self[hours]:
            found.append(
                f"{critical_hours} ({self[critical_hours]:g}) is above {hours} ({self[hours]:g})"
            )
        return found


class RuleBook:
    """Every host's rules, from the environment's levels (``base``) and what is stored: the
    one answer to "which levels apply to this host?" for its state and for its alerts. The
    service reloads it as rules are edited; each host's set is built once per load."""

    __slots__ = ("_base", "_defaults", "_overrides", "_sets")

    def __init__(
        self,
        base: Mapping[str, float] | None = None,
        defaults: Mapping[str, float] | None = None,
        overrides: Mapping[int, Mapping[str, float]] | None = None,
    ) -> None:
        self._base = dict(base or {})
        self._defaults: dict[str, float] = {}
        self._overrides: dict[int, dict[str, float]] = {}
        self._sets: dict[int | None, RuleSet] = {}
        self.load(defaults or {}, overrides or {})

    def load(
        self, defaults: Mapping[str, float], overrides: Mapping[int, Mapping[str, float]]
    ) -> None:
        """Replace the stored layers (``RuleRepository.stored()``)."""
        self._defaults = dict(defaults)
        self._overrides = {host_id: dict(own) for host_id, own in overrides.items()}
        self._sets = {}

    def rules(self, host_id: int | None) -> RuleSet:
        """``None``: the defaults, for a host not saved yet."""
        found = self._sets.get(host_id)
        if found is None:
            own = {} if host_id is None else self._overrides.get(host_id, {})
            found = self._sets[host_id] = RuleSet(self._base, self._defaults, own)
        return found

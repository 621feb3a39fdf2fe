"""`vpshealth check --nagios`: the check's results as a Nagios/Icinga plugin reports them, one
status line with performance data and the exit code 0, 1, 2 or 3.

A host that cannot be reached is CRITICAL: the plugin guidelines keep UNKNOWN for a plugin that
could not do its own work (bad arguments, a broken set-up), not for a server that is down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from vpshealth.domain.alert_rules import RuleSet
from vpshealth.domain.containers import ContainerState
from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.metric_catalog import readings

PREFIX = "VPSHEALTH"


class NagiosCode(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


_CODES = {
    HostState.OK: NagiosCode.OK,
    HostState.WARNING: NagiosCode.WARNING,
    HostState.CRITICAL: NagiosCode.CRITICAL,
    HostState.UNREACHABLE: NagiosCode.CRITICAL,
    HostState.UNKNOWN: NagiosCode.UNKNOWN,
}

# Worst first when several hosts are checked: UNKNOWN only outranks OK (as Icinga orders them).
_RANK = {
    NagiosCode.OK: 0,
    NagiosCode.UNKNOWN: 1,
    NagiosCode.WARNING: 2,
    NagiosCode.CRITICAL: 3,
}


@dataclass(frozen=True, slots=True)
class NagiosReport:
    code: NagiosCode
    line: str


def nagios_code(state: HostState) -> NagiosCode:
    return _CODES[state]


def unknown(message: str) -> NagiosReport:
    """The plugin could not check: a host name it does not know, a broken set-up."""
    return NagiosReport(NagiosCode.UNKNOWN, f"{PREFIX} UNKNOWN - {_one_line(message)}")


def nagios_report(results: Sequence[CheckResult], rules: Mapping[str, RuleSet]) -> NagiosReport:
    """``rules``: each host's effective alert rules by name, whose levels are the warning and
    critical thresholds of the performance data."""
    code = max((nagios_code(r.state) for r in results), key=_RANK.__getitem__)
    several = len(results) > 1
    shown = sorted(results, key=lambda r: -_RANK[nagios_code(r.state)])
    if several:
        problems = [r for r in shown if r.state is not HostState.OK]
        ok = len(results) - len(problems)
        parts = [f"{r.host_name}: {r.message}" for r in problems]
        parts.append(f"{ok} of {len(results)} hosts ok")
        summary = "; ".join(parts)
    else:
        summary = f"{results[0].host_name}: {results[0].message}"
    perfdata = [
        item
        for r in results
        for item in _perfdata(r, rules.get(r.host_name), r.host_name if several else "")
    ]
    line = f"{PREFIX} {code.name} - {_one_line(summary)}"
    if perfdata:
        line += " | " + " ".join(perfdata)
    return NagiosReport(code, line)


def _perfdata(result: CheckResult, rules: RuleSet | None, host: str) -> list[str]:
    items = []
    if result.metrics is not None:
        for reading in readings(result.metrics):
            name = reading.rule if not reading.subject else f"{reading.rule}_{reading.subject}"
            percent = reading.unit == "%"
            warn = crit = ""
            if rules is not None:
                warn = _number(rules[reading.metric.rule("warning")])
                crit = _number(rules[reading.metric.rule("critical")])
            value = _number(reading.value) + ("%" if percent else "")
            bounds = "0;100" if percent else "0;"
            items.append(f"{_label(host, name)}={value};{warn};{crit};{bounds}")
    docker = result.docker
    if docker is not None and docker.containers is not None:
        views = docker.containers
        running = sum(1 for v in views if v.container.state is ContainerState.RUNNING)
        items.append(f"{_label(host, 'containers_running')}={running};;;0;{len(views)}")
    items.append(f"{_label(host, 'duration')}={_number(result.duration_ms / 1000)}s;;;0;")
    return items


def _label(host: str, name: str) -> str:
    text = f"{host} {name}" if host else name
    return "'" + text.replace("'", "").replace("=", "") + "'"


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def _one_line(text: str) -> str:
    """Nagios takes the first line as the status; a ``|`` would start the performance data."""
    return " ".join(text.split()).replace("|", "/")

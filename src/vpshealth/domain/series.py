"""A poll's metrics as stored series (named as ``metric_catalog`` defines them), and the
short names users may give for a series."""

from __future__ import annotations

from typing import Final

from vpshealth.domain.containers import Container, ContainerState, ContainerView
from vpshealth.domain.metric_catalog import (
    CONTAINER_SERIES,
    METRICS,
    SUBJECT_SEPARATOR,
    Subject,
    series_name,
)
from vpshealth.domain.metrics import HostMetrics

ALIASES: Final[dict[str, str]] = {
    alias: series.key
    for metric in METRICS
    if metric.subject is Subject.HOST
    for series in metric.series
    for alias in series.aliases
}

SUBJECT_ALIASES: Final[dict[str, str]] = {
    alias: series.key
    for metric in METRICS
    if metric.subject is not Subject.HOST
    for series in metric.series
    for alias in series.aliases
}


def resolve_metric(name: str) -> str:
    """Turn a user's short name (``cpu``, ``disk:/``, ``net.rx:eth0``) into a series name."""
    if name in ALIASES:
        return ALIASES[name]
    metric, sep, subject = name.partition(SUBJECT_SEPARATOR)
    if sep and metric in SUBJECT_ALIASES:
        return series_name(SUBJECT_ALIASES[metric], subject)
    return name


def flatten(metrics: HostMetrics) -> list[tuple[str, float]]:
    """Every stored value of one poll as (series name, value)."""
    return [value for metric in METRICS for value in metric.values(metrics)]


CONTAINER_ALIASES: Final[dict[str, str]] = {
    alias: series.key for series in CONTAINER_SERIES for alias in (series.key, *series.aliases)
}


def resolve_container_metric(name: str) -> str | None:
    """A container series' key from a user's name for it (``cpu``, ``memory``,
    ``container.memory_bytes``); None when it names none."""
    return CONTAINER_ALIASES.get(name)


def container_subject(container: Container) -> str:
    """Whose series a container's values go to: its app's identity, the same for every deploy,
    or its name when it belongs to no app (a standalone container)."""
    return container.group.identity or container.name


def _newest(view: ContainerView) -> tuple[bool, int, int]:
    c = view.container
    return (c.state is ContainerState.RUNNING, c.started_at or 0, c.created)


def charted(views: tuple[ContainerView, ...]) -> dict[str, ContainerView]:
    """The container each subject's series follows in one poll: during a rolling update (old
    and new container of one app side by side) the newest running one, by start, then
    creation time."""
    chosen: dict[str, ContainerView] = {}
    for view in views:
        subject = container_subject(view.container)
        current = chosen.get(subject)
        if current is None or _newest(view) > _newest(current):
            chosen[subject] = view
    return chosen


def flatten_containers(views: tuple[ContainerView, ...]) -> list[tuple[str, float]]:
    """Per-app series (one value per app and poll), keyed by the app's identity so that they
    continue across deploys."""
    values: list[tuple[str, float]] = []
    for subject, view in charted(views).items():
        for series in CONTAINER_SERIES:
            value = series.read(view)
            if value is not None:
                values.append((series_name(series.key, subject), value))
    return values

"""A poll's metrics as stored series (named as ``metric_catalog`` defines them), and the
short names users may give for a series."""

from __future__ import annotations

from typing import Final

from vpshealth.domain.containers import ContainerView
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


def flatten_containers(views: tuple[ContainerView, ...]) -> list[tuple[str, float]]:
    """Per-container series, named by container name so they survive a re-deploy."""
    values: list[tuple[str, float]] = []
    for view in views:
        for series in CONTAINER_SERIES:
            value = series.read(view)
            if value is not None:
                values.append((series_name(series.key, view.container.name), value))
    return values

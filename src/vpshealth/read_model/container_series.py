"""The per-app container series of a host, as a person picks one: by the app's path
(``shop/production/web``), a container's name or the identity the series is keyed on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vpshealth.collectors.docker_parsers import group_of
from vpshealth.domain.containers import Container
from vpshealth.domain.metric_catalog import CONTAINER_SERIES, series_name, subjects_in
from vpshealth.domain.series import container_subject, resolve_container_metric
from vpshealth.store.docker_repository import StoredContainer

PATH_SEPARATOR = "/"


@dataclass(frozen=True, slots=True)
class ContainerChoice:
    """One app (or standalone container) with stored series. ``subject`` is what the series
    are keyed on; ``app``, ``member`` and ``names`` come from the containers last seen, and are
    empty for an app no longer there."""

    subject: str
    app: str | None = None
    member: str | None = None
    pull_request: int = 0
    names: tuple[str, ...] = ()

    @property
    def path(self) -> str | None:
        """The app as `vpshealth containers` names it, " / " written "/", with the member."""
        if self.app is None:
            return None
        parts = self.app.split(" / ")
        if self.member and parts[-1] != self.member:
            parts.append(self.member)
        return PATH_SEPARATOR.join(parts)

    @property
    def label(self) -> str:
        """How a list names it: ``shop / production / web · db (preview #3)``."""
        if self.app is None:
            return self.subject
        text = self.app
        if self.member and self.app.split(" / ")[-1] != self.member:
            text += f" · {self.member}"
        if self.pull_request:
            text += f" (preview #{self.pull_request})"
        return text

    @property
    def shown(self) -> str:
        """How an error lists it: the path, else the subject."""
        return self.path or self.subject


def with_identity(container: Container) -> Container:
    """The container with its group read again from its labels (the stored row keeps only the
    display names of its group)."""
    return dataclasses.replace(container, group=group_of(dict(container.labels), container.name))


def choices(
    stored: Iterable[StoredContainer], series_names: Iterable[str]
) -> list[ContainerChoice]:
    """Every subject with stored container series, described by the containers last seen;
    apps first (by name), then the rest by subject."""
    names = list(series_names)
    subjects = {s for series in CONTAINER_SERIES for s in subjects_in(names, series.key)}
    found: dict[str, ContainerChoice] = {}
    for item in stored:
        container = with_identity(item.view.container)
        subject = container_subject(container)
        if subject not in subjects:
            continue
        known = found.get(subject)
        group = container.group
        found[subject] = ContainerChoice(
            subject,
            group.app if group.identity else None,
            group.member,
            group.pull_request,
            (*(known.names if known else ()), container.name),
        )
    every = [found.get(s, ContainerChoice(s)) for s in subjects]
    return sorted(every, key=lambda c: (c.app is None, c.label.casefold(), c.subject))


def find(options: Sequence[ContainerChoice], query: str) -> ContainerChoice | None:
    """The choice ``query`` names: its subject, one of its containers' names or its path (with
    or without the member). A path shared by production and its previews means production."""
    wanted = query.strip().replace(" / ", PATH_SEPARATOR).strip(PATH_SEPARATOR)
    for option in options:
        if wanted in (option.subject, *option.names):
            return option
    matches = [
        o
        for o in options
        if o.app is not None and wanted in (o.path, o.app.replace(" / ", PATH_SEPARATOR))
    ]
    if len(matches) > 1:
        matches = [o for o in matches if not o.pull_request]
    return matches[0] if len(matches) == 1 else None


@dataclass(frozen=True, slots=True)
class ContainerLookup:
    """What a face asked for as (metric, container): the series key (None when ``metric`` names
    no container series), the choice ``container`` names (None when none), and every choice."""

    key: str | None
    chosen: ContainerChoice | None
    options: list[ContainerChoice]

    @property
    def series(self) -> str | None:
        """The stored series' name, when both were found."""
        if self.key is None or self.chosen is None:
            return None
        return series_name(self.key, self.chosen.subject)

    @property
    def listing(self) -> str:
        """The choices, for an error that says what there is."""
        return ", ".join(o.shown for o in self.options)


def look_up(
    stored: Iterable[StoredContainer], series_names: Iterable[str], metric: str, container: str
) -> ContainerLookup:
    """Find the series of ``metric`` (``cpu``, ``memory``) of the app or container that
    ``container`` names (see ``find``)."""
    options = choices(stored, series_names)
    return ContainerLookup(resolve_container_metric(metric), find(options, container), options)

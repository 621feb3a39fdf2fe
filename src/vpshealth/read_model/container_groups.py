"""Which containers a listing shows and how it groups them by app (Coolify project, compose
project, standalone), for every face that lists a host's containers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from vpshealth.domain.containers import ContainerState, ContainerView, GroupKind
from vpshealth.store.docker_repository import StoredContainer

ALWAYS_SHOWN = frozenset({ContainerState.RUNNING, ContainerState.RESTARTING, ContainerState.PAUSED})


def shown(
    stored: Iterable[StoredContainer], troubled: Collection[str], *, show_all: bool
) -> list[StoredContainer]:
    """Running, restarting and paused containers and any with an open incident (by id);
    with ``show_all`` the stopped ones too."""
    return [
        s
        for s in stored
        if show_all or s.view.container.state in ALWAYS_SHOWN or s.view.container.id in troubled
    ]


def app_title(view: ContainerView) -> str:
    group = view.container.group
    if group.infrastructure:
        return "Coolify infrastructure"
    if group.kind is GroupKind.STANDALONE:
        return "Standalone containers"
    kind = "Coolify" if group.kind is GroupKind.COOLIFY else "Compose"
    return f"{kind}: {group.app_title or '(unnamed)'}"


def by_app(views: Sequence[ContainerView]) -> list[tuple[str, list[ContainerView]]]:
    """Apps by title, standalone containers and Coolify's own last. One group per app
    identity (a stack's members, a database and its proxy together; two apps of the same
    name apart), titled by the first of its containers that has a name."""
    groups: dict[str, list[ContainerView]] = {}
    titles: dict[str, str] = {}
    for view in views:
        group = view.container.group
        title = app_title(view)
        key = title if group.infrastructure else (group.app_identity or title)
        groups.setdefault(key, []).append(view)
        if key not in titles or (titles[key].endswith("(unnamed)") and group.app_title):
            titles[key] = title
    taken = Counter(titles.values())
    for key, title in titles.items():
        uuid = groups[key][0].container.group.uuid
        if taken[title] > 1 and uuid:
            titles[key] = f"{title} [{uuid}]"  # two apps of the same name: say which is which
    order = sorted(
        groups,
        key=lambda k: (titles[k].startswith(("Standalone", "Coolify infra")), titles[k], k),
    )
    return [(titles[key], groups[key]) for key in order]

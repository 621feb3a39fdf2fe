"""Which app a container belongs to, from its name, labels and image, as Coolify and compose
set them (read from coollabsio/coolify v4.3.10, see tests/fixtures/docker/coolify/README.md).

Pure: the parsers call it on the engine's answers, the store on the labels it kept."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from vpshealth.domain.containers import STANDALONE, ContainerGroup, GroupKind

COOLIFY_INFRASTRUCTURE_NAMES: Final = frozenset(
    {
        "coolify",  # the Coolify app itself (docker-compose.yml in coollabsio/coolify)
        "coolify-db",  # its PostgreSQL
        "coolify-redis",  # its Redis
        "coolify-realtime",  # its soketi websocket server
        "coolify-proxy",  # Traefik or Caddy, in front of every app
        "coolify-sentinel",  # the metrics/health agent Coolify runs on each server
        "coolify-log-drain",  # fluent-bit, when a log drain is configured
        "coolify-cloudflared",  # the Cloudflare tunnel (app/Actions/Server/ConfigureCloudflared)
    }
)
"""Containers that are Coolify itself rather than an app deployed with it."""

COOLIFY_INFRASTRUCTURE_PREFIXES: Final = ("backup-of-", "volume-backup-", "volume-upload-")
"""Coolify's short-lived backup containers (DatabaseBackupJob, VolumeBackupJob)."""

COOLIFY_HELPER_IMAGE: Final = "coollabsio/coolify-helper"
"""The build container of a deployment (named after the deployment's uuid) and of upgrades."""

_UUID_RE: Final = re.compile(r"(?:^|-)([a-z0-9]{24})(?:-|$)")
"""Coolify's resource uuids: 24 lowercase letters and digits (``new_public_id``)."""
_DATABASE_PROXY_RE: Final = re.compile(r"([a-z0-9]{24})-proxy")
_DATABASE_PROXY_PROJECT: Final = "proxy"
_DATABASE_PROXY_MEMBER: Final = "proxy"
_MAX_PULL_REQUEST_DIGITS: Final = 9


def group_of(labels: Mapping[str, str], name: str, image: str = "") -> ContainerGroup:
    """Which app a container belongs to.

    Coolify-managed (``coolify.managed=true``): project / environment / resource from the
    slug labels; the resource's uuid from the compose project Coolify deploys it with;
    ``coolify.pullRequestId`` for a preview; the stack member from ``coolify.service.subName``
    (services) or the compose service (compose apps; not for a single-container app, whose
    compose service is its timestamped container name). A database's public-port proxy
    ``{uuid}-proxy`` has no labels: it is the ``proxy`` member of its database. Else a compose
    project / service. Else standalone. ``infrastructure`` marks Coolify's own containers.
    """
    infrastructure = _is_infrastructure(labels, name, image)
    if _is_true(labels.get("coolify.managed")):
        kind = _label(labels, "coolify.type")
        return ContainerGroup(
            GroupKind.COOLIFY,
            project=_label(labels, "coolify.projectName"),
            environment=_label(labels, "coolify.environmentName"),
            resource=_label(labels, "coolify.resourceName"),
            service=_label(labels, "coolify.serviceName"),
            infrastructure=infrastructure,
            uuid=_resource_uuid(labels, name),
            pull_request=_pull_request(labels),
            member=_member(labels, kind),
        )
    proxy = _DATABASE_PROXY_RE.fullmatch(name)
    project = _label(labels, "com.docker.compose.project")
    if proxy is not None and project in (None, _DATABASE_PROXY_PROJECT):
        return ContainerGroup(GroupKind.COOLIFY, uuid=proxy.group(1), member=_DATABASE_PROXY_MEMBER)
    if project is not None:
        service = _label(labels, "com.docker.compose.service")
        return ContainerGroup(
            GroupKind.COMPOSE,
            project=project,
            service=service,
            infrastructure=infrastructure,
            uuid=project,
            member=service,
        )
    if infrastructure:
        return ContainerGroup(GroupKind.STANDALONE, infrastructure=True)
    return STANDALONE


def _is_infrastructure(labels: Mapping[str, str], name: str, image: str) -> bool:
    return (
        _is_true(labels.get("coolify.proxy"))
        or name in COOLIFY_INFRASTRUCTURE_NAMES
        or name.startswith(COOLIFY_INFRASTRUCTURE_PREFIXES)
        or _is_helper_image(image)
    )


def _is_helper_image(image: str) -> bool:
    """``ghcr.io/coollabsio/coolify-helper:1.0.12``, ``coollabsio/coolify-helper``, ..."""
    repository = image.rsplit("@", 1)[0]
    last_colon = repository.rfind(":")
    if last_colon > repository.rfind("/"):
        repository = repository[:last_colon]
    return repository == COOLIFY_HELPER_IMAGE or repository.endswith("/" + COOLIFY_HELPER_IMAGE)


def _resource_uuid(labels: Mapping[str, str], name: str) -> str | None:
    """Coolify deploys every resource as compose project ``{uuid}`` (``--project-name`` or
    the directory ``/data/coolify/{applications,databases,services}/{uuid}``); on Swarm the
    stack namespace. Failing those, the uuid in the container's name (``{uuid}-{Hisu}``,
    ``{service}-{uuid}``), then ``coolify.name``."""
    for key in ("com.docker.compose.project", "com.docker.stack.namespace"):
        value = _label(labels, key)
        if value is not None:
            return value
    match = _UUID_RE.search(name)
    if match is not None:
        return match.group(1)
    return _label(labels, "coolify.name")


def _member(labels: Mapping[str, str], kind: str | None) -> str | None:
    if kind == "service":
        return _label(labels, "coolify.service.subName") or _label(
            labels, "com.docker.compose.service"
        )
    if kind == "database":
        return None  # one container, compose service = its uuid
    service = _label(labels, "com.docker.compose.service")
    name = _label(labels, "coolify.name")
    if service is None or (name is not None and name == _resource_uuid(labels, "")):
        # A dockerfile/nixpacks/static/image app: defaultLabels() names it by the app's uuid
        # and its compose service is the container's (timestamped) name.
        return None
    return service


def _label(labels: Mapping[str, str], key: str) -> str | None:
    value = labels.get(key)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _pull_request(labels: Mapping[str, str]) -> int:
    value = _label(labels, "coolify.pullRequestId")
    if (
        value is None
        or not value.isascii()
        or not value.isdigit()
        or len(value) > _MAX_PULL_REQUEST_DIGITS
    ):
        return 0
    return int(value)


def _is_true(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() == "true"

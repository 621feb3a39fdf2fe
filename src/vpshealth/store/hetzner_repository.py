"""Hetzner Cloud projects and the hosts imported from them. Blocking: call from a worker
thread when on the event loop. Tokens are not here: ``token_ref`` names the secret store's
entry."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from vpshealth.store.schema import hetzner_projects, hosts


@dataclass(frozen=True, slots=True)
class HetznerProject:
    name: str
    token_ref: str
    api_endpoint: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class HetznerLink:
    """An imported host: which project's server it is."""

    host_id: int
    host_name: str
    project: str
    server_id: int


class HetznerRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def projects(self) -> list[HetznerProject]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(hetzner_projects).order_by(hetzner_projects.c.name))
            return [HetznerProject(r.name, r.token_ref, r.api_endpoint, r.created_at) for r in rows]

    def project(self, name: str) -> HetznerProject | None:
        return next((p for p in self.projects() if p.name == name), None)

    def add_project(self, name: str, token_ref: str, api_endpoint: str | None) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(hetzner_projects).values(
                    name=name,
                    token_ref=token_ref,
                    api_endpoint=api_endpoint,
                    created_at=int(time.time()),
                )
            )

    def remove_project(self, name: str) -> None:
        """The project goes; its hosts stay, no longer linked to it."""
        with self._engine.begin() as conn:
            conn.execute(
                update(hosts)
                .where(hosts.c.hetzner_project == name)
                .values(hetzner_project=None, hetzner_server_id=None)
            )
            conn.execute(delete(hetzner_projects).where(hetzner_projects.c.name == name))

    def links(self, project: str | None = None) -> list[HetznerLink]:
        query = select(hosts.c.id, hosts.c.name, hosts.c.hetzner_project, hosts.c.hetzner_server_id)
        query = query.where(hosts.c.hetzner_project.is_not(None))
        if project is not None:
            query = query.where(hosts.c.hetzner_project == project)
        with self._engine.connect() as conn:
            return [
                HetznerLink(r.id, r.name, r.hetzner_project, r.hetzner_server_id)
                for r in conn.execute(query.order_by(hosts.c.name))
            ]

    def link(self, host_name: str, project: str, server_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(hosts)
                .where(hosts.c.name == host_name)
                .values(hetzner_project=project, hetzner_server_id=server_id)
            )

"""Hetzner Cloud projects (a read-only API token each, kept in the secret store) and the import
of their servers as hosts, keyed by the Hetzner server id. Blocking (database, secret store,
the API, the host keys of new servers): call from a worker thread when on an event loop."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

from vpshealth.collectors.hetzner_cloud import (
    HetznerAuthError,
    HetznerCloud,
    HetznerError,
)
from vpshealth.collectors.ssh_keys import fingerprint_of_line
from vpshealth.domain.hetzner import (
    CloudServer,
    check_project_name,
    ssh_address,
    tags_from_labels,
)
from vpshealth.domain.hosts import check_name, check_user
from vpshealth.errors import EXIT_NOT_OK, InputError, VpsHealthError
from vpshealth.operations.errors import (
    NOTHING_SAVED,
    ConflictError,
    FieldError,
    HostKeyUnconfirmed,
    HostUnreachable,
    NotFoundError,
)
from vpshealth.operations.hosts import HostOperations
from vpshealth.operations.login_keys import NewKey
from vpshealth.secrets import SecretStore
from vpshealth.store.hetzner_repository import HetznerLink, HetznerProject, HetznerRepository
from vpshealth.store.host_repository import HostRepository

CloudFactory = Callable[[str, str | None], HetznerCloud]
"""(token, API endpoint or None for Hetzner's) -> the project's API."""

REF_PREFIX: Final = "hetzner-token/"
HOST_KEY_READERS: Final = 8


class HetznerUnavailable(VpsHealthError):
    """The API could not be asked (an outage, its rate limit): nothing was changed."""

    exit_code = EXIT_NOT_OK


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    name: str
    api_endpoint: str | None
    hosts: int


@dataclass(frozen=True, slots=True)
class ImportedServer:
    """One server of an import. ``action``: added, updated, unchanged or skipped (``note``
    says why)."""

    project: str
    server_id: int
    server_name: str
    host_name: str
    address: str | None
    action: str
    tags: tuple[str, ...] = ()
    dropped_labels: tuple[str, ...] = ()
    host_key_fingerprint: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class GoneServer:
    """An imported host whose server is no longer in its project (kept, not removed)."""

    project: str
    server_id: int
    host_name: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    servers: list[ImportedServer] = field(default_factory=list)
    gone: list[GoneServer] = field(default_factory=list)
    public_line: str | None = None
    """The login key's public line, when a key was generated for the new hosts."""
    host_keys_trusted: bool = False

    def count(self, action: str) -> int:
        return sum(1 for s in self.servers if s.action == action)

    @property
    def untrusted(self) -> list[str]:
        return [
            s.host_name
            for s in self.servers
            if s.action == "added" and s.host_key_fingerprint is None
        ]


class HetznerOperations:
    def __init__(
        self,
        repository: HetznerRepository,
        host_repository: HostRepository,
        hosts: HostOperations,
        secrets: SecretStore,
        cloud: CloudFactory = HetznerCloud,
    ) -> None:
        self._repo = repository
        self._host_repo = host_repository
        self._hosts = hosts
        self._secrets = secrets
        self._cloud = cloud

    # --- projects ---

    def add_project(self, name: str, token: str, api_endpoint: str | None = None) -> int:
        """Check ``token`` with one list call, then keep it in the secret store; returns the
        number of servers the project has. Raises InputError (a 401 among them),
        ConflictError, HetznerUnavailable; nothing is saved then."""
        try:
            check_project_name(name)
        except ValueError as exc:
            raise FieldError("project", str(exc), value=name) from None
        token = token.strip()
        if not token:
            raise FieldError("token", "the API token is empty; paste the project's token")
        if self._repo.project(name) is not None:
            raise ConflictError(
                f"A Hetzner Cloud project named '{name}' is connected already; remove it "
                f"first with `vpshealth hetzner remove {name}`. {NOTHING_SAVED}"
            )
        self._secrets.require_usable()
        servers = self._servers(name, self._cloud(token, api_endpoint), None)
        ref = f"{REF_PREFIX}{uuid.uuid4()}"
        self._secrets.put(ref, token)
        try:
            self._repo.add_project(name, ref, api_endpoint)
        except BaseException:
            self._secrets.delete(ref)
            raise
        return len(servers)

    def projects(self) -> list[ProjectSummary]:
        counts: dict[str, int] = {}
        for link in self._repo.links():
            counts[link.project] = counts.get(link.project, 0) + 1
        return [
            ProjectSummary(p.name, p.api_endpoint, counts.get(p.name, 0))
            for p in self._repo.projects()
        ]

    def project(self, name: str) -> HetznerProject:
        project = self._repo.project(name)
        if project is None:
            raise NotFoundError(
                f"There is no Hetzner Cloud project named '{name}'. "
                "`vpshealth hetzner list` shows the connected projects."
            )
        return project

    def remove_project(self, name: str) -> int:
        """Forget the project and delete its token; its hosts stay (no longer linked).
        Returns how many hosts were linked."""
        project = self.project(name)
        self._secrets.require_usable()
        linked = len(self._repo.links(name))
        self._repo.remove_project(name)
        self._secrets.delete(project.token_ref)
        return linked

    def cloud_of(self, project: HetznerProject) -> HetznerCloud:
        token = self._secrets.get(project.token_ref)
        if not token:
            raise InputError(
                f"The API token of the Hetzner Cloud project {project.name} is missing from "
                f"{self._secrets.where}: run `vpshealth hetzner remove {project.name}` and "
                "add it again."
            )
        return self._cloud(token, project.api_endpoint)

    def _servers(
        self, project: str, cloud: HetznerCloud, label_selector: str | None
    ) -> list[CloudServer]:
        try:
            return cloud.servers(label_selector)
        except HetznerAuthError as exc:
            again = ""
            if self._repo.project(project) is not None:
                again = (
                    f", then `vpshealth hetzner remove {project}` and add it again with the "
                    "new token"
                )
            raise InputError(
                f"Hetzner Cloud project {project}: {exc.message}{again}. {NOTHING_SAVED}"
            ) from None
        except HetznerError as exc:
            raise HetznerUnavailable(
                f"Hetzner Cloud project {project}: {exc.message}. {NOTHING_SAVED}"
            ) from None

    # --- import ---

    def import_servers(
        self,
        project_name: str | None,
        key: NewKey,
        *,
        label_selector: str | None = None,
        trust_host_keys: bool = False,
        user: str = "root",
        port: int = 22,
    ) -> ImportReport:
        """Create a host for each new server (logging in with ``key``, one copy of it in the
        secret store per host) and update the address and tags of those imported before.
        With ``trust_host_keys``, each new server's host key is read now and pinned (trust
        on first use); else it is to be confirmed with `vpshealth host trust`. Every project
        is asked before anything is written."""
        if not 1 <= port <= 65535:
            raise FieldError("port", "use a port between 1 and 65535", value=port)
        try:
            check_user(user)
        except ValueError as exc:
            raise FieldError("user", str(exc), value=user) from None
        projects = [self.project(project_name)] if project_name else self._repo.projects()
        if not projects:
            raise InputError(
                "No Hetzner Cloud project is connected: add one with "
                "`vpshealth hetzner add PROJECT --token-stdin`."
            )
        answers = [
            (p.name, self._servers(p.name, self.cloud_of(p), label_selector)) for p in projects
        ]
        self._hosts.check_key_store(key)
        report = ImportReport(host_keys_trusted=trust_host_keys)
        new: list[_NewServer] = []
        for project, servers in answers:
            links = {link.server_id: link for link in self._repo.links(project)}
            for server in servers:
                fit = _fit(server)
                link = links.pop(server.id, None)
                if link is not None:
                    report.servers.append(self._update(project, server, link, fit))
                    continue
                skipped = self._refusal(project, server, fit)
                if skipped is not None:
                    report.servers.append(skipped)
                else:
                    assert fit.address is not None
                    new.append(_NewServer(project, server, fit.address, fit))
            if label_selector is None:
                report.gone.extend(
                    GoneServer(project, link.server_id, link.host_name) for link in links.values()
                )
        targets = [(n.server.name, n.address) for n in new]
        pinned = self._host_keys(targets, port) if trust_host_keys else {}
        for n in new:
            report.servers.append(
                self._add(n, key, pinned.get(n.server.name), user=user, port=port)
            )
        if key.generated and any(s.action == "added" for s in report.servers):
            report = _with_public_line(report, key.public_line)
        return report

    def _refusal(self, project: str, server: CloudServer, fit: LabelFit) -> ImportedServer | None:
        def skipped(note: str) -> ImportedServer:
            return ImportedServer(
                project, server.id, server.name, server.name, fit.address, "skipped", note=note
            )

        if fit.address is None:
            return skipped("it has no public IPv4 or IPv6 address")
        try:
            check_name(server.name)
        except ValueError as exc:
            return skipped(f"its name is not a valid host name ({exc})")
        if self._host_repo.find(server.name) is not None:
            return skipped(
                f"a host named {server.name} exists already and was not imported from this "
                "project; rename or remove it, then import again"
            )
        return None

    def _host_keys(self, targets: Sequence[tuple[str, str]], port: int) -> dict[str, str]:
        """Each reachable server's host key line, read concurrently (trust on first use)."""

        def read(target: tuple[str, str]) -> tuple[str, str | None]:
            name, address = target
            try:
                return name, self._hosts.host_key_for(name, address, port)
            except HostKeyUnconfirmed as presented:
                return name, presented.line
            except (HostUnreachable, FieldError):
                return name, None

        if not targets:
            return {}
        with ThreadPoolExecutor(min(HOST_KEY_READERS, len(targets))) as pool:
            return {name: line for name, line in pool.map(read, targets) if line is not None}

    def _add(
        self, new: _NewServer, key: NewKey, host_key: str | None, *, user: str, port: int
    ) -> ImportedServer:
        project, server, fit = new.project, new.server, new.fit
        fields = {
            "name": server.name,
            "address": new.address,
            "port": port,
            "user": user,
            "tags": fit.tags,
        }
        record = self._hosts.add(fields, key, host_key)
        self._repo.link(record.host.name, project, server.id)
        return ImportedServer(
            project,
            server.id,
            server.name,
            record.host.name,
            record.host.address,
            "added",
            fit.tags,
            fit.dropped,
            fingerprint_of_line(host_key) if host_key else None,
        )

    def _update(
        self, project: str, server: CloudServer, link: HetznerLink, fit: LabelFit
    ) -> ImportedServer:
        host = self._hosts.get(link.host_name).host
        changes: dict[str, object] = {}
        if fit.address is not None and fit.address != host.address:
            changes["address"] = fit.address
        if fit.tags != host.tags:
            changes["tags"] = fit.tags
        note = "" if server.name == host.name else f"named {server.name} in Hetzner Cloud"
        if changes:
            self._hosts.edit(host.name, changes)
        return ImportedServer(
            project,
            server.id,
            server.name,
            host.name,
            str(changes.get("address", host.address)),
            "updated" if changes else "unchanged",
            fit.tags,
            fit.dropped,
            fingerprint_of_line(host.host_key) if host.host_key else None,
            note,
        )


@dataclass(frozen=True, slots=True)
class LabelFit:
    address: str | None
    tags: tuple[str, ...]
    dropped: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _NewServer:
    project: str
    server: CloudServer
    address: str
    fit: LabelFit


def _fit(server: CloudServer) -> LabelFit:
    tags = tags_from_labels(server.labels or {})
    return LabelFit(ssh_address(server), tags.tags, tags.dropped)


def _with_public_line(report: ImportReport, line: str | None) -> ImportReport:
    return ImportReport(report.servers, report.gone, line, report.host_keys_trusted)

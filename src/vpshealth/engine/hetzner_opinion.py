"""A second opinion from Hetzner Cloud when an imported server stops answering over SSH.

A failed check of an imported host asks for its project's server list in the background; the
check itself never waits. Once the answer is in (one list call serves every server of the
project, at most one call a minute per project), the failed checks that follow carry the reason
in their message: "powered off (Hetzner Cloud): connection refused". That message is what the
host's state and its unreachable (or host key) incident and notification show."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Final

from vpshealth.clock import Clock
from vpshealth.collectors.hetzner_cloud import HetznerCloud, HetznerError, HetznerRateLimited
from vpshealth.domain.health import CheckResult, Problem
from vpshealth.domain.hetzner import AskPacing, ProjectAnswer, down_reason, with_reason
from vpshealth.secrets import SecretStore
from vpshealth.store.hetzner_repository import HetznerLink, HetznerProject, HetznerRepository

log = logging.getLogger(__name__)

CloudFactory = Callable[[str, str | None], HetznerCloud]

ASKED_FOR: Final = frozenset(
    {Problem.UNREACHABLE, Problem.TIMEOUT, Problem.AUTH_FAILED, Problem.HOST_KEY_MISMATCH}
)
"""What a failed check must say for the API to be asked: the server does not answer, refuses
the key, or presents another host key (as the rescue system does)."""
LINKS_SECONDS: Final = 30.0
IDLE_SECONDS: Final = 5.0
ASK_TIMEOUT_SECONDS: Final = 30.0


class SecondOpinion:
    """``annotate`` is called for every check result on the loop thread (cheap, no I/O);
    ``run`` is the background task that asks the API."""

    def __init__(
        self,
        repository: HetznerRepository,
        secrets: SecretStore,
        clock: Clock,
        cloud: CloudFactory = HetznerCloud,
    ) -> None:
        self._repo = repository
        self._secrets = secrets
        self._clock = clock
        self._cloud = cloud
        self._links: dict[int, HetznerLink] = {}
        self._projects: dict[str, HetznerProject] = {}
        self._clients: dict[str, tuple[str, HetznerCloud]] = {}
        self._answers: dict[str, ProjectAnswer] = {}
        self._pacing: dict[str, AskPacing] = {}
        self._wanted: set[str] = set()
        self._wake = asyncio.Event()
        self._links_read_at = float("-inf")
        self.requests = 0
        """List calls made, for tests and the log."""

    def annotate(self, host_id: int, result: CheckResult) -> CheckResult:
        if result.metrics is not None or result.problem not in ASKED_FOR:
            return result
        link = self._links.get(host_id)
        if link is None:
            return result
        self._wanted.add(link.project)
        self._wake.set()
        answer = self._answers.get(link.project)
        if answer is None or not answer.fresh(self._clock.now()):
            return result
        reason = down_reason(answer.servers.get(link.server_id), link.project)
        if reason is None:
            return result
        return dataclasses.replace(result, message=with_reason(result.message, reason))

    async def explain(self, results: Sequence[tuple[int, CheckResult]]) -> list[CheckResult]:
        """For a one-off check (``vpshealth check``): ask now, once per project, about the
        imported hosts that failed, and return every result with its reason where there is
        one. It waits at most the API client's timeout; a refusal or an outage leaves the
        results as they are."""
        if not any(r.metrics is None and r.problem in ASKED_FOR for _, r in results):
            return [r for _, r in results]
        try:
            await self._read_links()
            self._links_read_at = self._clock.now()
        except Exception:
            log.exception("Could not read the Hetzner Cloud projects")
            return [r for _, r in results]
        for host_id, result in results:
            self.annotate(host_id, result)
        await self.step()
        return [self.annotate(host_id, result) for host_id, result in results]

    async def run(self) -> None:
        while True:
            self._wake.clear()
            await self.step()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)

    async def step(self) -> None:
        """Re-read the imported hosts when due, and ask for each project that a failed check
        wants and its pacing allows."""
        now = self._clock.now()
        if now - self._links_read_at >= LINKS_SECONDS:
            try:
                await self._read_links()
                self._links_read_at = now
            except Exception:
                log.exception("Could not read the Hetzner Cloud projects; will retry")
        for project in sorted(self._wanted):
            pacing = self._pacing.setdefault(project, AskPacing())
            if project in self._projects and pacing.due(self._clock.now()):
                await self._ask(self._projects[project], pacing)

    async def _read_links(self) -> None:
        def read() -> tuple[list[HetznerLink], list[HetznerProject]]:
            return self._repo.links(), self._repo.projects()

        links, projects = await asyncio.to_thread(read)
        self._links = {link.host_id: link for link in links}
        self._projects = {p.name: p for p in projects}
        for gone in set(self._answers) - set(self._projects):
            self._answers.pop(gone, None)
            self._clients.pop(gone, None)
        self._wanted &= set(self._projects)

    async def _client(self, project: HetznerProject) -> HetznerCloud | None:
        kept = self._clients.get(project.name)
        if kept is not None and kept[0] == project.token_ref:
            return kept[1]
        token = await asyncio.to_thread(self._secrets.get, project.token_ref)
        if not token:
            log.warning("The API token of Hetzner Cloud project %s is missing", project.name)
            return None
        client = self._cloud(token, project.api_endpoint)
        self._clients[project.name] = (project.token_ref, client)
        return client

    async def _ask(self, project: HetznerProject, pacing: AskPacing) -> None:
        pacing.asked(self._clock.now())
        try:
            client = await self._client(project)
            if client is None:
                pacing.failed(self._clock.now())
                return
            self.requests += 1
            servers = await asyncio.wait_for(asyncio.to_thread(client.servers), ASK_TIMEOUT_SECONDS)
        except HetznerRateLimited as exc:
            pacing.refused(self._clock.now(), exc.reset_at)
            log.warning("Hetzner Cloud project %s: %s", project.name, exc.message)
            return
        except HetznerError as exc:
            pacing.failed(self._clock.now())
            log.warning("Hetzner Cloud project %s: %s", project.name, exc.message)
            return
        except Exception:
            pacing.failed(self._clock.now())
            log.exception("Could not ask Hetzner Cloud about project %s", project.name)
            return
        pacing.answered()
        self._answers[project.name] = ProjectAnswer.of(self._clock.now(), servers)
        self._wanted.discard(project.name)

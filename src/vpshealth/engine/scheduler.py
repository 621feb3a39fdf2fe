"""Runs every enabled host on its own interval, with jitter, a global concurrency bound and a
per-poll timeout. One task per host, so a host is never polled twice at once."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from vpshealth.clock import Clock
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.engine.poller import Poller, failed_result
from vpshealth.engine.timing import next_due

log = logging.getLogger(__name__)

BACKOFF_PROBLEMS = frozenset(
    {
        Problem.UNREACHABLE,
        Problem.TIMEOUT,
        Problem.AUTH_FAILED,
        Problem.HOST_KEY_MISMATCH,
        Problem.HOST_KEY_NOT_TRUSTED,
        Problem.KEY_MISSING,
        Problem.KEYRING_UNAVAILABLE,
    }
)

ResultSink = Callable[[int, CheckResult], None]
PollerFactory = Callable[[int, Host], Poller]


@dataclass
class _Entry:
    host_id: int
    poller: Poller
    task: asyncio.Task[None] | None = None
    failures: int = 0
    last: CheckResult | None = field(default=None)


class Scheduler:
    def __init__(
        self,
        make_poller: PollerFactory,
        sink: ResultSink,
        clock: Clock,
        *,
        max_concurrency: int,
        poll_timeout: float,
        jitter: Callable[[float], float] | None = None,
    ) -> None:
        self._make_poller = make_poller
        self._sink = sink
        self._clock = clock
        self._slots = asyncio.Semaphore(max_concurrency)
        self._poll_timeout = poll_timeout
        self._jitter = jitter or (lambda interval: random.uniform(0, interval))  # noqa: S311
        self._entries: dict[int, _Entry] = {}

    @property
    def host_ids(self) -> set[int]:
        return set(self._entries)

    async def set_hosts(self, hosts: dict[int, Host], *, start_now: bool = False) -> None:
        """Start, restart or stop host loops so that exactly the enabled ``hosts`` run.
        ``start_now``: hosts started by this call are polled right away, without jitter."""
        wanted = {host_id: host for host_id, host in hosts.items() if host.enabled}
        for host_id in list(self._entries):
            current, host = self._entries[host_id].poller.host, wanted.get(host_id)
            # Unchanged hosts come back as the same objects: no field-by-field comparison.
            if host is not current and host != current:
                await self._stop_entry(host_id)
        for host_id, host in wanted.items():
            if host_id not in self._entries:
                entry = _Entry(host_id, self._make_poller(host_id, host))
                entry.task = asyncio.create_task(
                    self._run_host(entry, start_now), name=f"poll {host.name}"
                )
                self._entries[host_id] = entry

    async def _stop_entry(self, host_id: int) -> None:
        entry = self._entries.pop(host_id)
        task = entry.task
        if task is not None:
            # Re-cancel until done: a cancellation can be absorbed by library code that
            # finished its own wait at the same moment.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.5)
        await entry.poller.close()

    async def stop(self) -> None:
        for host_id in list(self._entries):
            await self._stop_entry(host_id)

    async def poll_once(self, host_id: int, poller: Poller) -> CheckResult:
        """One guarded poll: bounded by the concurrency slots and the timeout, never raising."""
        host = poller.host
        async with self._slots:
            started = self._clock.now()
            try:
                async with asyncio.timeout(self._poll_timeout):
                    return await poller.poll()
            except TimeoutError:
                await poller.close()
                return failed_result(
                    host,
                    started,
                    Problem.TIMEOUT,
                    f"the check of {host.name} took longer than {self._poll_timeout:g} s",
                )
            except Exception:
                log.exception("Unexpected error while checking %s", host.name)
                await poller.close()
                return failed_result(
                    host,
                    started,
                    Problem.COMMAND_FAILED,
                    f"an internal error stopped the check of {host.name}; see the log file",
                )

    async def _run_host(self, entry: _Entry, start_now: bool = False) -> None:
        interval = float(entry.poller.host.interval_seconds)
        due = self._clock.now() + (0.0 if start_now else self._jitter(interval))
        while True:
            delay = due - self._clock.now()
            if delay > 0:
                await self._clock.sleep(delay)
            result = await self.poll_once(entry.host_id, entry.poller)
            entry.last = result
            entry.failures = entry.failures + 1 if result.problem in BACKOFF_PROBLEMS else 0
            if result.state is HostState.UNREACHABLE and entry.failures == 1:
                log.warning("%s: %s", entry.poller.host.name, result.message)
            self._sink(entry.host_id, result)
            due = next_due(due, self._clock.now(), interval, entry.failures)

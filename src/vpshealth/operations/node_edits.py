"""The edits of a computer linked to a node: applied on the node, the authority, through its
API, never in this computer's database. Each class has the methods and answers of the local
operations it stands for, and reads from the local copy of the node; after an edit the copy
catches up, so that it shows the edit at once.

When the node does not answer, an edit waits in the copy's queue (``pending_edits``) and is
sent, in order, when it answers again; an edit carrying a login key is not queued (the key
would have to wait on this computer). Blocking: call from a worker thread when on an event
loop (the node is asked on a loop of its own)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from vpshealth.clock import Clock
from vpshealth.collectors.ssh_keys import fingerprint_of_line
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.errors import EXIT_OK, VpsHealthError
from vpshealth.operations.errors import FieldError
from vpshealth.operations.hosts import HostOperations, plain
from vpshealth.operations.incidents import (
    Acknowledgements,
    AckOutcome,
    AckResult,
    IncidentOperations,
)
from vpshealth.operations.login_keys import NewKey
from vpshealth.operations.node_link import NodeLinkOperations
from vpshealth.operations.rules import RuleInput, RuleOperations, RulesView
from vpshealth.operations.silence_input import duration_seconds, start_time
from vpshealth.operations.silences import SilenceOperations, WindowView
from vpshealth.secrets import SecretStore
from vpshealth.store.host_repository import HostRecord, HostRepository
from vpshealth.store.incident_repository import IncidentRepository
from vpshealth.store.rule_repository import RuleRepository
from vpshealth.store.silence_repository import SilenceRepository
from vpshealth.sync.catch_up import catch_up
from vpshealth.sync.edit_queue import Edit, EditQueue
from vpshealth.sync.edit_sender import kept_fields, send_edit, send_queued
from vpshealth.sync.node_session import NodeError, NodeProblem

EXIT_APPLIED_IN_PART = 4
QUEUED = (
    "the node is not answering: the change is queued and is applied when it answers "
    "(vpshealth node status shows the queue)"
)
_NO_ANSWER = (NodeProblem.UNREACHABLE, NodeProblem.API_NOT_ANSWERING)
_API = "/api/v1"


class EditQueued(VpsHealthError):
    """The node did not answer: the edit waits in the local copy's queue."""

    exit_code = EXIT_OK

    def __init__(self, summary: str, reason: str) -> None:
        self.summary = summary
        self.reason = reason
        super().__init__(f"{summary}: {QUEUED}. ({reason})")


class AppliedInPart(VpsHealthError):
    """The node applied the edit but kept fields that were changed there meanwhile; the
    message has one line per field, naming the host, the field and both values."""

    exit_code = EXIT_APPLIED_IN_PART

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines = tuple(lines)
        super().__init__("\n".join(self.lines))


class NodeEdits:
    """Sends one edit to the linked node after those queued before it, then catches the
    local copy up; or queues it when the node does not answer."""

    def __init__(self, node: NodeLinkOperations, clock: Clock) -> None:
        self._node = node
        self._clock = clock

    def apply(self, edit: Edit, *, may_queue: bool = True) -> Any:
        """The node's answer. Raises EditQueued (queued), EditRefused (a 4xx: not applied,
        with the node's reason), NodeError (the token or host key refused ...)."""
        return asyncio.run(self._apply(edit, may_queue))

    async def _apply(self, edit: Edit, may_queue: bool) -> Any:
        with self._node.local_copy() as copy:
            queue = EditQueue(copy)
            try:
                async with self._node.session() as session:
                    await send_queued(session.client, queue, self._clock)  # the older first
                    answer = await send_edit(session.client, edit)
                    await catch_up(session.client, copy, self._clock)
                    return answer
            except NodeError as exc:
                if exc.problem not in _NO_ANSWER:
                    raise
                if not may_queue:
                    raise NodeError(
                        exc.problem,
                        f"{exc} {edit.summary} was not queued: it carries a login key, which "
                        "goes to the node only; try again when the node answers.",
                    ) from None
                await asyncio.to_thread(queue.put, edit, self._clock.now())
                raise EditQueued(edit.summary, str(exc)) from None


class NodeHostOperations(HostOperations):
    """Hosts on the node: the login key goes into the node's secret store (``private_key``)
    or is made there (``generate_key``); this computer stores none."""

    checks_here = False

    def __init__(
        self, copy_hosts: HostRepository, secrets: SecretStore, edits: NodeEdits, timeout: float
    ) -> None:
        super().__init__(copy_hosts, secrets, timeout)
        self._edits = edits
        self._lines: dict[str, str] = {}

    def check_key_store(self, key: NewKey | None) -> None:
        """Nothing to check here: the key goes to the node's secret store."""

    def public_line_for(self, name: str, key: NewKey) -> str | None:
        """The line for the server's authorized_keys of a key generated for ``name``: on
        the node."""
        return self._lines.get(name) if key.generated else None

    def add(self, fields: Mapping[str, Any], key: NewKey, host_key: str | None) -> HostRecord:
        draft = self.draft_new(fields)
        body = {**{f: plain(v) for f, v in fields.items()}, **_login(key)}
        if host_key is not None:
            body["host_key_fingerprint"] = fingerprint_of_line(host_key)
        answer = self._edits.apply(
            Edit(f"host add {draft.name}", "POST", f"{_API}/hosts", body),
            may_queue=not _has_key(body),
        )
        line = answer.get("authorized_keys_line") if isinstance(answer, dict) else None
        if line:
            self._lines[draft.name] = line
        return self.get(draft.name)

    def edit(
        self,
        name: str,
        changes: Mapping[str, Any],
        key: NewKey | None = None,
        host_key: str | None = None,
    ) -> Host:
        """Raises AppliedInPart after the edit when the node kept fields changed there since
        this computer's copy showed them."""
        current, edited = self.draft_edit(
            name, changes, new_key=key is not None, new_host_key=host_key is not None
        )
        body: dict[str, Any] = {f: plain(v) for f, v in changes.items()}
        body["expected"] = {f: plain(getattr(current, f)) for f in changes}
        if key is not None:
            body.update(_login(key))
        if host_key is not None:
            body["host_key_fingerprint"] = fingerprint_of_line(host_key)
        answer = self._edits.apply(
            Edit(f"host edit {current.name}", "PATCH", f"{_API}/hosts/{current.name}", body),
            may_queue=not _has_key(body),
        )
        line = answer.get("authorized_keys_line") if isinstance(answer, dict) else None
        if line:
            self._lines[edited.name] = line
        kept = kept_fields(current.name, answer)
        if kept:
            raise AppliedInPart(k.line for k in kept)
        found = self._hosts.find(edited.name)
        return found.host if found is not None else edited

    def remove(self, name: str) -> Host:
        host = self.get(name).host
        self._edits.apply(Edit(f"host remove {host.name}", "DELETE", f"{_API}/hosts/{host.name}"))
        return host

    def trust(self, name: str, line: str) -> bool:
        host = self.trust_target(name)
        if line == host.host_key:
            return False
        body = {"host_key_fingerprint": fingerprint_of_line(line)}
        self._edits.apply(
            Edit(f"host trust {host.name}", "PATCH", f"{_API}/hosts/{host.name}", body)
        )
        return True


def _login(key: NewKey) -> dict[str, Any]:
    if key.auth is AuthMethod.AGENT:
        raise FieldError(
            "auth",
            "the node logs in to servers with its own key, not with this computer's "
            "ssh-agent: use --key-file or --generate-key",
        )
    if key.generated:
        return {"generate_key": True}
    if key.private_key is None:
        return {}
    login = {"private_key": key.private_key}
    if key.passphrase:
        login["passphrase"] = key.passphrase
    return login


def _has_key(body: Mapping[str, Any]) -> bool:
    return "private_key" in body or bool(body.get("generate_key"))


class NodeRuleOperations(RuleOperations):
    def __init__(
        self,
        copy_rules: RuleRepository,
        hosts: HostOperations,
        base: Mapping[str, float],
        clock: Clock,
        edits: NodeEdits,
    ) -> None:
        super().__init__(copy_rules, hosts, base, clock)
        self._edits = edits

    def change(self, host_name: str | None, changes: Mapping[str, RuleInput]) -> RulesView:
        """The node checks the rules as a whole; a refusal names the rule."""
        if host_name is None:
            edit = Edit("rules", "PATCH", f"{_API}/rules", dict(changes))
        else:
            name = self._hosts.get(host_name).host.name
            edit = Edit(f"rules {name}", "PATCH", f"{_API}/hosts/{name}/rules", dict(changes))
        self._edits.apply(edit)
        view = self.show(host_name)
        return RulesView(view.host_name, view.effective, view.own, len(changes))


class NodeIncidentOperations(IncidentOperations):
    def __init__(self, copy_incidents: IncidentRepository, clock: Clock, edits: NodeEdits) -> None:
        super().__init__(copy_incidents, clock)
        self._edits = edits

    def acknowledge(self, ids: Iterable[int]) -> Acknowledgements:
        wanted = list(ids)
        summary = "ack " + " ".join(map(str, wanted))
        answer = self._edits.apply(Edit(summary, "POST", f"{_API}/incidents/ack", {"ids": wanted}))
        outcomes = {
            int(r["id"]): AckOutcome(r["outcome"])
            for r in (answer or {}).get("results", [])
            if isinstance(r, dict)
        }
        return Acknowledgements(
            [
                AckResult(i, outcomes.get(i, AckOutcome.UNKNOWN), self._incidents.get(i))
                for i in wanted
            ]
        )


class NodeSilenceOperations(SilenceOperations):
    """Times are sent as Unix seconds from this computer's clock; a weekly window's day and
    time are the node's local time."""

    def __init__(
        self,
        copy_silences: SilenceRepository,
        hosts: HostOperations,
        clock: Clock,
        edits: NodeEdits,
    ) -> None:
        super().__init__(copy_silences, hosts, clock)
        self._edits = edits

    def _target(self, host_name: str | None) -> dict[str, Any]:
        if host_name is None:
            return {"all": True}
        return {"host": self._hosts.get(host_name).host.name}

    def snooze(self, host_name: str | None, duration: str | int, reason: str = "") -> int:
        seconds = duration_seconds(duration, "duration")
        return self.snooze_until(host_name, self._now() + seconds, reason)

    def snooze_until(self, host_name: str | None, until: int, reason: str = "") -> int:
        if until <= self._now():
            raise FieldError("until", "the end of a snooze must be in the future")
        target = self._target(host_name)
        who = target.get("host", "--all")
        body = {**target, "until": until, "reason": reason}
        self._edits.apply(Edit(f"snooze {who}", "POST", f"{_API}/snoozes", body))
        return until

    def end_snooze(self, host_name: str | None) -> int:
        target = self._target(host_name)
        query = "all=true" if host_name is None else f"host={target['host']}"
        who = target.get("host", "--all")
        answer = self._edits.apply(Edit(f"snooze {who} off", "DELETE", f"{_API}/snoozes?{query}"))
        return int((answer or {}).get("ended", 0))

    def add_window(
        self,
        host_name: str | None,
        *,
        duration: str | int,
        start: str | int | None = None,
        weekly: str | None = None,
        reason: str = "",
    ) -> WindowView:
        if (start is None) == (weekly is None):
            raise FieldError("start", "give either a start (one-off) or weekly, not both")
        target = self._target(host_name)
        body: dict[str, Any] = {
            **target,
            "duration": duration_seconds(duration, "duration"),
            "reason": reason,
        }
        if weekly is not None:
            body["weekly"] = weekly
        else:
            assert start is not None
            body["start"] = start_time(start, self._now())
        who = target.get("host", "--all")
        answer = self._edits.apply(
            Edit(f"maintenance {who}", "POST", f"{_API}/maintenance-windows", body)
        )
        window_id = int(answer["id"])
        return next(w for w in self.windows() if w.silence.id == window_id)

    def remove_window(self, window_id: int) -> None:
        self._edits.apply(
            Edit(
                f"maintenance --remove {window_id}",
                "DELETE",
                f"{_API}/maintenance-windows/{window_id}",
            )
        )

"""Sending edits to the node: one request each, and what the node said of it. A refusal
(4xx: a name taken, a host gone) is final; no answer, or a token refused, is a NodeError and
the edit may be tried again."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from vpshealth.clock import Clock
from vpshealth.errors import InputError
from vpshealth.sync.edit_queue import Edit, EditQueue
from vpshealth.sync.node_session import NodeError, NodeProblem, NodeSession

log = logging.getLogger(__name__)

ADD_TIMEOUT = 60.0
"""A host add waits for the node's SSH handshake with the server; other edits wait as long
as the client's requests do."""


class EditRefused(InputError):
    """The node answered the edit with a 4xx: it will not apply it, however often sent."""

    def __init__(self, edit: Edit, status: int, detail: str) -> None:
        self.edit = edit
        self.status = status
        self.detail = detail
        super().__init__(f"Not applied: {edit.summary}: {detail}")


@dataclass(frozen=True, slots=True)
class Kept:
    """A field the node kept as it had it: changed there since the edit's base."""

    host: str
    field: str
    kept: Any
    lost: Any

    @property
    def line(self) -> str:
        return (
            f"{self.host}: {self.field} was changed on the node meanwhile; it keeps "
            f"{_shown(self.kept)}, your {_shown(self.lost)} was not applied."
        )


@dataclass(frozen=True, slots=True)
class SendReport:
    applied: int = 0
    refused: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "(none)"
    return str(value)


def kept_fields(host: str, answer: Any) -> list[Kept]:
    """The fields a PATCH /hosts/{name} answer says the node kept."""
    items = answer.get("kept", []) if isinstance(answer, dict) else []
    return [
        Kept(host, str(k.get("field")), k.get("kept"), k.get("lost"))
        for k in items
        if isinstance(k, dict)
    ]


async def send_edit(client: httpx.AsyncClient, edit: Edit) -> Any:
    """Send one edit; returns the node's JSON answer (None for 204). Raises EditRefused for a
    4xx, NodeError when it got no answer, the token was refused, or the node failed (5xx)."""
    session = NodeSession(client, f"the node at {client.base_url}", "", 0)
    try:
        timeout = ADD_TIMEOUT if edit.method == "POST" and edit.path.endswith("/hosts") else None
        response = await client.request(
            edit.method, edit.path, json=edit.body, timeout=timeout or client.timeout
        )
    except httpx.HTTPError as exc:
        raise session.transport_error(exc) from None
    refused = session.refusal(response)
    if refused is not None:
        raise refused
    if 400 <= response.status_code < 500:
        raise EditRefused(edit, response.status_code, _detail(response))
    if response.status_code >= 500:
        raise NodeError(
            NodeProblem.NOT_A_NODE,
            f"the node failed on {edit.summary} (HTTP {response.status_code}: "
            f"{_detail(response)}); its log says why. The edit was not applied.",
        )
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail) if detail else f"HTTP {response.status_code}"


def edit_host_name(edit: Edit) -> str | None:
    """The host a PATCH /api/v1/hosts/{name} edit changes."""
    prefix = "/api/v1/hosts/"
    if edit.method != "PATCH" or not edit.path.startswith(prefix):
        return None
    rest = edit.path[len(prefix) :]
    return None if "/" in rest else rest


async def send_queued(client: httpx.AsyncClient, queue: EditQueue, clock: Clock) -> SendReport:
    """Send the waiting edits in order. One the node refuses, or applies in part, leaves the
    queue with its report; a NodeError stops the sending (what is left stays queued)."""
    waiting = await asyncio.to_thread(queue.waiting)
    applied, refused, kept = 0, [], []
    for queued in waiting:
        try:
            answer = await send_edit(client, queued.edit)
        except EditRefused as exc:
            log.warning("Sync: %s", exc)
            refused.append(str(exc))
            await asyncio.to_thread(queue.settled, queued.id, str(exc), clock.now())
            continue
        host = edit_host_name(queued.edit)
        lines = [k.line for k in kept_fields(host, answer)] if host is not None else []
        if lines:
            text = f"Applied in part: {queued.edit.summary}: " + " ".join(lines)
            log.warning("Sync: %s", text)
            kept.append(text)
            await asyncio.to_thread(queue.settled, queued.id, text, clock.now())
        else:
            await asyncio.to_thread(queue.applied, queued.id)
        applied += 1
    return SendReport(applied, tuple(refused), tuple(kept))

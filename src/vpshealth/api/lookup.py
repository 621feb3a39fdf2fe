"""Finding what a path or query names, with a 404 that says how to list what exists."""

from __future__ import annotations

from typing import TypeVar

from fastapi import HTTPException

from vpshealth.api.context import ApiContext
from vpshealth.store.host_repository import HostRecord

T = TypeVar("T")


def host_named(context: ApiContext, name: str) -> HostRecord:
    record = context.read_model.hosts.find(name)
    if record is None:
        raise HTTPException(
            404, f"There is no host named '{name}'. GET /api/v1/hosts lists the hosts."
        )
    return record


def host_id_of(context: ApiContext, name: str | None) -> int | None:
    """The id of the host a ``host`` query names; None without one."""
    return None if name is None else host_named(context, name).id


def available(part: T | None, what: str) -> T:
    """A part of the context that app.py fills in (a test may leave it out)."""
    if part is None:
        raise RuntimeError(f"the API was built without {what}")
    return part

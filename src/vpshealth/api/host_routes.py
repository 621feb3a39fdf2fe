"""Hosts: list and read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vpshealth.api.auth import Context, Reader
from vpshealth.read_model import json_shapes

router = APIRouter(prefix="/api/v1", tags=["hosts"])


@router.get("/hosts")
def list_hosts(context: Context, _token: Reader) -> dict[str, Any]:
    records = context.read_model.hosts.list()
    return {"hosts": [json_shapes.host_json(r) for r in records]}

"""The alert rules: the defaults for every host, and (in host_routes) one host's."""

from __future__ import annotations

from fastapi import APIRouter

from vpshealth.api import models
from vpshealth.api.auth import Context, Reader, Writer
from vpshealth.api.context import ApiContext
from vpshealth.api.errors import ERROR_RESPONSES, WRITE_RESPONSES
from vpshealth.api.lookup import available
from vpshealth.api.write_models import RuleChanges
from vpshealth.read_model import json_shapes

router = APIRouter(prefix="/api/v1", tags=["rules"], responses=ERROR_RESPONSES)


def rules_answer(context: ApiContext, host_id: int | None, host_name: str | None) -> models.Rules:
    repo = available(context.rules, "rules")
    effective = repo.rules_for(host_id, context.rule_base)
    own = repo.overrides_of(host_id)
    return models.Rules.model_validate(json_shapes.rules_json(host_name, effective, own))


@router.get("/rules", response_model=models.Rules)
def default_rules(context: Context, _token: Reader) -> models.Rules:
    """The rules every host has unless it sets its own, as `vpshealth rules --json`."""
    return rules_answer(context, None, None)


@router.patch("/rules", response_model=models.Rules, responses=WRITE_RESPONSES)
def change_default_rules(changes: RuleChanges, context: Context, _token: Writer) -> models.Rules:
    """Change the defaults (`{"disk.warning": 80}`), or with null go back to the built-in
    value (`{"cpu.critical": null}`); checked together, none stored when one is not valid."""
    available(context.operations, "operations").rules.change(None, changes)
    context.fleet_answers.clear()
    return rules_answer(context, None, None)

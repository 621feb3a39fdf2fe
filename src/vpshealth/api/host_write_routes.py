"""Adding, editing and removing hosts, and their rules, through the operations every face
calls. Trust on first use takes two requests: the first answers 409 with the fingerprint the
server presents and saves nothing; the same request with ``host_key_fingerprint`` saves.

Plain functions: FastAPI runs them in worker threads, where the operations may block (the
database, the secret store, one SSH handshake for the host key)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vpshealth.api import models
from vpshealth.api.auth import Context, Writer
from vpshealth.api.context import ApiContext
from vpshealth.api.errors import (
    ERROR_RESPONSES,
    HOST_KEY_TO_CONFIRM,
    NOT_FOUND,
    WRITE_RESPONSES,
)
from vpshealth.api.host_routes import HostName
from vpshealth.api.login_input import login_key
from vpshealth.api.lookup import available, host_named
from vpshealth.api.rule_routes import rules_answer
from vpshealth.api.write_models import HostChanges, NewHost, RuleChanges
from vpshealth.operations.bundle import Operations
from vpshealth.operations.host_keys import expected_fingerprint
from vpshealth.operations.login_keys import NewKey
from vpshealth.read_model import json_shapes

router = APIRouter(
    prefix="/api/v1", tags=["hosts"], responses={**ERROR_RESPONSES, **WRITE_RESPONSES}
)


def operations(context: ApiContext) -> Operations:
    return available(context.operations, "operations")


def saved(context: ApiContext, name: str, key: NewKey | None) -> models.HostSaved:
    """After a change: the host as GET answers it, and the next host list shows it."""
    context.fleet_answers.clear()
    shape = json_shapes.host_json(host_named(context, name))
    line = key.public_line if key is not None and key.generated else None
    return models.HostSaved.model_validate({**shape, "authorized_keys_line": line})


@router.post(
    "/hosts",
    status_code=201,
    response_model=models.HostSaved,
    responses=HOST_KEY_TO_CONFIRM,
)
def add_host(body: NewHost, context: Context, _token: Writer) -> models.HostSaved:
    """Add a server, as `vpshealth host add` does, with one login: `key_secret`,
    `private_key` (and `passphrase`) or `generate_key`. Without `host_key_fingerprint` the
    answer is 409 with the fingerprint the server presents, and nothing is saved; compare it
    with the server's own and send the same body with `host_key_fingerprint`. A mismatch is a
    422 naming `host_key_fingerprint`; a server that cannot be reached, or does not answer
    SSH, a 422 naming `address` with the reason."""
    hosts = operations(context).hosts
    fields = body.host_fields()
    draft = hosts.draft_new(fields)
    expected = expected_fingerprint(body.host_key_fingerprint)
    key = login_key(body, draft.name, available(context.read_secret, "secrets"), required=True)
    assert key is not None
    hosts.check_key_store(key)
    host_key = hosts.host_key_for(draft.name, draft.address, draft.port, expected)
    hosts.add(fields, key, host_key)
    return saved(context, draft.name, key)


@router.patch(
    "/hosts/{name}",
    response_model=models.HostEdited,
    responses={**NOT_FOUND, **HOST_KEY_TO_CONFIRM},
)
def edit_host(
    name: HostName, body: HostChanges, context: Context, _token: Writer
) -> models.HostEdited:
    """Change what is given, as `vpshealth host edit` does: fields, `enabled`, a new login,
    and `host_key_fingerprint` to trust the key the server presents now (as `vpshealth host
    trust`). The local host takes only `interval_seconds`, `tags` and `enabled`. With
    `expected` (the values the change was made from), a field changed on the node meanwhile
    keeps the node's value and is listed in `kept`."""
    host_named(context, name)
    hosts = operations(context).hosts
    changes = body.changes()
    expected = expected_fingerprint(body.host_key_fingerprint)
    current, edited = hosts.draft_edit(
        name, changes, new_key=bool(body.login_fields()), new_host_key=expected is not None
    )
    key = login_key(body, current.name, available(context.read_secret, "secrets"), required=False)
    hosts.check_key_store(key)
    host_key = None
    if expected is not None:
        host_key = hosts.host_key_for(
            edited.name, edited.address, edited.port, expected, current.host_key
        )
    done = hosts.edit_from(current.name, changes, body.base(), key, host_key)
    answer = saved(context, done.host.name, key)
    kept = [models.FieldKept(field=k.field, kept=k.kept, lost=k.lost) for k in done.kept]
    return models.HostEdited.model_validate({**answer.model_dump(), "kept": kept})


@router.delete("/hosts/{name}", status_code=204, response_class=Response, responses=NOT_FOUND)
def remove_host(name: HostName, context: Context, _token: Writer) -> Response:
    """Forget the host and its history, and delete its key from the secret store."""
    host_named(context, name)
    operations(context).hosts.remove(name)
    context.fleet_answers.clear()
    return Response(status_code=204)


@router.patch("/hosts/{name}/rules", response_model=models.Rules, responses=NOT_FOUND)
def change_host_rules(
    name: HostName, changes: RuleChanges, context: Context, _token: Writer
) -> models.Rules:
    """Set rules for this host alone (`{"disk.warning": 80}`), or with null go back to the
    default (`{"cpu.critical": null}`); the rules are checked together, and none is stored
    when one is not valid."""
    record = host_named(context, name)
    operations(context).rules.change(record.host.name, changes)
    context.fleet_answers.clear()
    return rules_answer(context, record.id, record.host.name)

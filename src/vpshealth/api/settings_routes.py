"""The node's e-mail settings, as `vpshealth notify show` and `vpshealth notify email` read and
change them. The SMTP password goes into the secret store and is never answered."""

from __future__ import annotations

from fastapi import APIRouter

from vpshealth.api import models
from vpshealth.api.auth import Context, Reader, Writer
from vpshealth.api.context import ApiContext
from vpshealth.api.errors import ERROR_RESPONSES, WRITE_RESPONSES
from vpshealth.api.lookup import available
from vpshealth.api.write_models import EmailChanges
from vpshealth.operations.email_settings import EmailSettingsOperations

router = APIRouter(prefix="/api/v1/settings", tags=["settings"], responses=ERROR_RESPONSES)


def _email(context: ApiContext) -> EmailSettingsOperations:
    return available(context.operations, "operations").email


def _answer(operations: EmailSettingsOperations) -> models.EmailSettings:
    view = operations.show()
    return models.EmailSettings.model_validate(
        {
            "configured": view.configured,
            "problem": view.problem,
            "settings": [
                {"setting": r.setting, "value": r.value, "source": r.source} for r in view.settings
            ],
            "password": view.password,
        }
    )


@router.get("/email", response_model=models.EmailSettings)
def email_settings(context: Context, _token: Reader) -> models.EmailSettings:
    """Each setting with where its value comes from (`stored`, `default`, or the environment
    variable that overrides it), and whether e-mail is sent and why not."""
    return _answer(_email(context))


@router.patch("/email", response_model=models.EmailSettings, responses=WRITE_RESPONSES)
def change_email_settings(
    body: EmailChanges, context: Context, _token: Writer
) -> models.EmailSettings:
    """Store the given settings, checked together with the stored ones; a setting that is not
    valid is a 422 naming it, and then nothing is stored. `null` resets a setting."""
    operations = _email(context)
    operations.change(body.changes(), body.password)
    return _answer(operations)

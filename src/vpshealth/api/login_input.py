"""A login key given to the API: a secret file of the node, a private key in the body, or a
new key. Errors name the body's field."""

from __future__ import annotations

from collections.abc import Callable

from vpshealth.api.write_models import Login
from vpshealth.errors import InputError
from vpshealth.operations.errors import FieldError
from vpshealth.operations.login_keys import NewKey, generated_key, key_from_text

ONE_LOGIN = "give exactly one of key_secret, private_key or generate_key: true"


def login_key(
    body: Login, host_name: str, read_secret: Callable[[str], str], *, required: bool
) -> NewKey | None:
    """The key ``body`` gives (None: none given and none ``required``). Raises FieldError."""
    given = body.login_fields()
    if len(given) > 1 or (required and not given):
        raise FieldError("login", ONE_LOGIN if given else f"no login key: {ONE_LOGIN}")
    if body.passphrase is not None and not {"key_secret", "private_key"} & set(given):
        raise FieldError("passphrase", "a passphrase goes with private_key or key_secret only")
    if body.generate_key:
        return generated_key(host_name)
    if body.private_key is not None:
        return key_from_text(body.private_key, body.passphrase)
    if body.key_secret is None:
        return None
    name = body.key_secret
    try:
        text = read_secret(name)
    except InputError as exc:
        raise FieldError("key_secret", str(exc).rstrip("."), value=name) from None
    try:
        return key_from_text(text, body.passphrase)
    except FieldError as exc:
        raise FieldError("key_secret", exc.problem, value=name) from None

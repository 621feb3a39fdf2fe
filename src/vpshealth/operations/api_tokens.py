"""Creating, listing and revoking the API's bearer tokens, and checking one."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from vpshealth.clock import Clock
from vpshealth.errors import InputError
from vpshealth.store.api_token_repository import ApiTokenRepository, StoredToken

TOKEN_PREFIX = "vph_"  # noqa: S105 - not a secret: the mark of our tokens
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MARK_USED_EVERY = 300.0
"""A token's "last used" time is written at most this often (seconds)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewToken:
    token: str
    stored: StoredToken


class ApiTokens:
    def __init__(self, repository: ApiTokenRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    def create(self, name: str, *, read_only: bool = False) -> NewToken:
        if not _NAME.match(name):
            raise InputError(
                f"'{name}' cannot name a token: use up to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit. Nothing was saved."
            )
        if self._repository.find(name) is not None:
            raise InputError(
                f"A token named '{name}' already exists; revoke it first with "
                f"`vpshealth api token revoke {name}`, or pick another name. Nothing was saved."
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            stored = self._repository.add(
                name, token_hash(token), read_only=read_only, now=self._clock.now()
            )
        except IntegrityError:
            raise InputError(f"A token named '{name}' already exists. Nothing was saved.") from None
        return NewToken(token, stored)

    def list(self) -> list[StoredToken]:
        return self._repository.list()

    def revoke(self, name: str) -> None:
        if not self._repository.remove(name):
            raise InputError(f"No token is named '{name}'; `vpshealth api token list` shows them.")

    def verify(self, token: str) -> StoredToken | None:
        """The stored token this one is, compared in constant time against every hash."""
        presented = token_hash(token)
        found = None
        for stored in self._repository.list():
            if hmac.compare_digest(presented, stored.token_hash):
                found = stored
        if found is not None:
            now = self._clock.now()
            if found.last_used_at is None or now - found.last_used_at >= MARK_USED_EVERY:
                self._repository.mark_used(found.id, now)
        return found

"""The API's bearer tokens: a name, read-only or not, and only the SHA-256 of the token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from vpshealth.store.schema import api_tokens


@dataclass(frozen=True, slots=True)
class StoredToken:
    id: int
    name: str
    token_hash: str
    read_only: bool
    created_at: float
    last_used_at: float | None


class ApiTokenRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, name: str, token_hash: str, *, read_only: bool, now: float) -> StoredToken:
        with self._engine.begin() as conn:
            token_id = conn.execute(
                insert(api_tokens).values(
                    name=name, token_hash=token_hash, read_only=read_only, created_at=now
                )
            ).inserted_primary_key
        assert token_id is not None
        return StoredToken(int(token_id[0]), name, token_hash, read_only, now, None)

    def list(self) -> list[StoredToken]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(api_tokens).order_by(api_tokens.c.name)).all()
        return [
            StoredToken(r.id, r.name, r.token_hash, bool(r.read_only), r.created_at, r.last_used_at)
            for r in rows
        ]

    def find(self, name: str) -> StoredToken | None:
        return next((t for t in self.list() if t.name == name), None)

    def remove(self, name: str) -> bool:
        with self._engine.begin() as conn:
            return conn.execute(delete(api_tokens).where(api_tokens.c.name == name)).rowcount > 0

    def mark_used(self, token_id: int, now: float) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
            )

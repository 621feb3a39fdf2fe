from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.unit.fake_clock import FakeClock
from vpshealth.errors import InputError
from vpshealth.operations.api_tokens import MARK_USED_EVERY, ApiTokens, token_hash
from vpshealth.store.api_token_repository import ApiTokenRepository
from vpshealth.store.database import open_database


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite3"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def tokens(database: Path, clock: FakeClock) -> ApiTokens:
    return ApiTokens(ApiTokenRepository(open_database(database)), clock)


def test_a_new_token_verifies_and_only_its_hash_is_stored(
    tokens: ApiTokens, database: Path
) -> None:
    new = tokens.create("laptop")
    assert new.token.startswith("vph_")
    assert len(new.token) > 40
    found = tokens.verify(new.token)
    assert found is not None
    assert (found.name, found.read_only) == ("laptop", False)
    stored = sqlite3.connect(database).execute("SELECT token_hash FROM api_tokens").fetchall()
    assert stored == [(token_hash(new.token),)]
    assert new.token.encode() not in database.read_bytes()


def test_wrong_and_revoked_tokens_do_not_verify(tokens: ApiTokens) -> None:
    new = tokens.create("laptop", read_only=True)
    assert tokens.verify(new.token + "x") is None
    assert tokens.verify("") is None
    assert tokens.verify(new.token).read_only  # type: ignore[union-attr]
    tokens.revoke("laptop")
    assert tokens.verify(new.token) is None
    assert tokens.list() == []


def test_two_tokens_are_told_apart(tokens: ApiTokens) -> None:
    a, b = tokens.create("a"), tokens.create("b", read_only=True)
    assert a.token != b.token
    assert tokens.verify(a.token).name == "a"  # type: ignore[union-attr]
    assert tokens.verify(b.token).name == "b"  # type: ignore[union-attr]


def test_last_use_is_written_at_most_every_few_minutes(tokens: ApiTokens, clock: FakeClock) -> None:
    new = tokens.create("laptop")
    tokens.verify(new.token)
    first = tokens.list()[0].last_used_at
    assert first == clock.now()
    clock.t += MARK_USED_EVERY - 1
    tokens.verify(new.token)
    assert tokens.list()[0].last_used_at == first
    clock.t += 1
    tokens.verify(new.token)
    assert tokens.list()[0].last_used_at == clock.now()


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 65, "ü"])
def test_bad_names_are_refused_and_nothing_is_saved(tokens: ApiTokens, name: str) -> None:
    with pytest.raises(InputError, match="cannot name a token"):
        tokens.create(name)
    assert tokens.list() == []


def test_a_name_in_use_is_refused(tokens: ApiTokens) -> None:
    tokens.create("laptop")
    with pytest.raises(InputError, match="already exists"):
        tokens.create("laptop")
    assert len(tokens.list()) == 1


def test_revoking_an_unknown_token_says_how_to_list_them(tokens: ApiTokens) -> None:
    with pytest.raises(InputError, match="api token list"):
        tokens.revoke("nobody")

"""Lists of ids go into a query as one parameter, so a query is one prepared statement whatever
the length of its list (SQLite keeps every distinct statement text prepared per connection)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select

from tests.unit.test_store import make_metrics, result, web
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.store.id_lists import one_of
from vpshealth.store.results_writer import ResultsWriter
from vpshealth.store.schema import hosts


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "ids.sqlite3")
    yield engine
    engine.dispose()


def statements_of(engine: Engine, action: Callable[[], object]) -> set[str]:
    seen: set[str] = set()

    def remember(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.add(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return seen


@pytest.mark.parametrize("wanted", [[], [2], [1, 3], [3, 3, 1], [9], list(range(1, 600))])
def test_one_of_selects_exactly_the_listed_ids(engine: Engine, wanted: list[int]) -> None:
    repo = HostRepository(engine)
    for n in range(1, 6):
        repo.add(web(f"web{n}"))
    with engine.connect() as conn:
        every = set(conn.execute(select(hosts.c.id)).scalars())
        found = set(conn.execute(select(hosts.c.id).where(one_of(hosts.c.id, wanted))).scalars())
    assert len(every) >= 5
    assert found == every & set(wanted)


def test_the_statement_text_does_not_depend_on_the_number_of_ids(engine: Engine) -> None:
    def query(ids: list[int]) -> set[str]:
        def run() -> None:
            with engine.connect() as conn:
                conn.execute(select(hosts.c.id).where(one_of(hosts.c.id, ids))).all()

        return statements_of(engine, run)

    assert query([1]) == query([1, 2, 3]) == query(list(range(500)))


def test_writing_batches_of_any_size_uses_the_same_statements(engine: Engine) -> None:
    repo = HostRepository(engine)
    ids = [repo.add(web(f"web{n}")) for n in range(1, 5)]
    writer = ResultsWriter(engine)
    writer.write([(host_id, result("x", 100, metrics=make_metrics())) for host_id in ids])

    def batch(size: int, at: int) -> set[str]:
        results = [(host_id, result("x", at, metrics=make_metrics())) for host_id in ids[:size]]
        return statements_of(engine, lambda: writer.write(results))

    assert batch(1, 110) == batch(3, 120) == batch(4, 130)

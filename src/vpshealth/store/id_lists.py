"""A list of ids in a query as one JSON array parameter.

``column IN (?, ?, ...)`` has one placeholder per id, so every length of list is a different
statement, and each connection keeps up to 128 of them prepared (Python's sqlite3 statement
cache): with batches of a few hundred hosts that was several megabytes that grew for hours
(measured: about 20 KB per cached statement of 125 ids). ``IN (SELECT value FROM json_each(?))``
is one statement for any list, and SQLite still looks each id up in the index."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select


def one_of(column: ColumnElement[int], ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN ids`` with the ids in one parameter."""
    each = func.json_each(json.dumps(list(ids))).table_valued("value")
    return column.in_(select(each.c.value))

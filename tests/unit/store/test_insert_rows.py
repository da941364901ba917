"""hedgerow.testing.insert_rows: a fixture's rows in one statement, stored exactly as a statement
per row stores them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from hedgerow.store.events.duckdb import DuckDBEventStore
from hedgerow.testing import insert_rows

COLUMNS = ["team_id", "uuid", "event", "distinct_id", "properties", "timestamp", "created_at", "person_id", "$group_0"]
ROWS = [
    [1, "00000000-0000-0000-0000-000000000001", "$pageview", "a", json.dumps({"$browser": "Chrome"}),
     dt.datetime(2024, 3, 1, 5, 42, 39, 867128), dt.datetime(2024, 3, 1, 5, 42, 39, 867128), None, "acme"],
    [2, "00000000-0000-0000-0000-000000000002", "signup", "b", "{}",
     dt.datetime(2024, 3, 2), dt.datetime(2024, 3, 2), "00000000-0000-0000-0000-00000000000b", ""],
]  # fmt: skip
INSERT = "INSERT INTO events ({}) VALUES ({})".format(", ".join(f'"{c}"' for c in COLUMNS), ", ".join("?" * len(COLUMNS)))
READ = 'SELECT team_id, uuid, event, distinct_id, properties, timestamp, created_at, person_id, "$group_0" FROM events ORDER BY uuid'


def test_rows_are_stored_as_one_statement_per_row_stores_them(tmp_path) -> None:
    one_by_one, at_once = DuckDBEventStore(tmp_path / "a.duckdb"), DuckDBEventStore(tmp_path / "b.duckdb")
    a, b = one_by_one.cursor(), at_once.cursor()
    try:
        for row in ROWS:
            a.execute(INSERT, row)
        insert_rows(b, "events", COLUMNS, ROWS)
        stored = b.execute(READ).fetchall()
        assert stored == a.execute(READ).fetchall() and len(stored) == 2
    finally:
        for closing in (a, b, one_by_one, at_once):
            closing.close()


def test_an_aware_datetime_is_refused_not_shifted(tmp_path) -> None:
    store = DuckDBEventStore(tmp_path / "e.duckdb")
    cursor = store.cursor()
    aware = [[*ROWS[0][:5], dt.datetime(2024, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))), *ROWS[0][6:]]]
    try:
        with pytest.raises(ValueError):
            insert_rows(cursor, "events", COLUMNS, aware)
        assert cursor.execute("SELECT count(*) FROM events").fetchone() == (0,)
    finally:
        cursor.close()
        store.close()

from __future__ import annotations

import datetime as dt

import pytest

from hedgerow.hogql import CompileContext, compile_hogql
from hedgerow.store.events.duckdb import DuckDBEventStore
from hedgerow.store.events.duckdb_query import execute
from tests.unit.hogql import dataset

NOW = dt.datetime(2024, 6, 10, 12, 0, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="session")
def db(tmp_path_factory):
    events = DuckDBEventStore(tmp_path_factory.mktemp("hogql") / "events.duckdb")
    setup = events.cursor()
    dataset.load(setup)
    setup.close()
    cursor = events.cursor()
    yield cursor
    cursor.close()
    events.close()


@pytest.fixture(scope="session")
def run(db):
    def run_query(query: str, **ctx_args):
        ctx_args.setdefault("team_id", 1)
        ctx_args.setdefault("now", NOW)
        compiled = compile_hogql(query, CompileContext(**ctx_args))
        return compiled, execute(db, compiled, timeout_seconds=10)

    return run_query

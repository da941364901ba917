from __future__ import annotations

import datetime as dt
import os

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


@pytest.fixture(scope="session")
def clickhouse_store():
    """The dataset in the embedded ClickHouse (``chdb``): its own database in the process's
    in-memory server, which the parity tests' ``chdb.query`` shares."""
    from hedgerow.store.events.clickhouse import ClickHouseEventStore
    from hedgerow.store.events.clickhouse_connection import ChdbConnection

    store = ClickHouseEventStore(ChdbConnection(":memory:"), database=f"hogql_cases_{os.getpid()}")
    dataset.load_clickhouse(store)
    yield store
    store.connection.command(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


@pytest.fixture(scope="session", params=["duckdb", "chdb"])
def engine(request):
    return request.param


@pytest.fixture(scope="session")
def run_on(request, engine, run):
    """``run`` on each engine: the same query, the same dataset, compiled for that engine."""
    if engine == "duckdb":
        yield run
        return
    store = request.getfixturevalue("clickhouse_store")

    def run_query(query: str, **ctx_args):
        ctx_args.setdefault("team_id", 1)
        ctx_args.setdefault("now", NOW)
        compiled = compile_hogql(query, CompileContext(**ctx_args), engine="clickhouse")
        return compiled, store.execute(compiled, timeout_seconds=10)

    yield run_query

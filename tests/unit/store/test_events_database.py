"""The events store's DuckDB instance: sandboxed, cursors for queries, timeouts, cancel."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from hedgerow.hogql import CompileContext, compile_hogql
from hedgerow.hogql.errors import QueryTimeoutError
from hedgerow.store.events.duckdb import DuckDBEventStore, path_from_url
from hedgerow.store.events.duckdb_query import QueryCancelled, execute

SLOW = "select count() from numbers(100000000) a cross join numbers(100000000) b"


@pytest.fixture
def events(tmp_path):
    db = DuckDBEventStore(tmp_path / "events.duckdb")
    yield db
    db.close()


def test_url_to_path():
    assert str(path_from_url("duckdb:////var/lib/h/events.duckdb")) == "/var/lib/h/events.duckdb"
    assert str(path_from_url("duckdb:///rel/events.duckdb")) == "rel/events.duckdb"
    with pytest.raises(ValueError):
        path_from_url("sqlite:///x")


def test_tables_exist_and_cursors_share_the_instance(events):
    writer = events.cursor()
    writer.execute("insert into events (team_id, uuid, event, distinct_id, timestamp, created_at)"
                   " values (1, uuid(), 'e', 'd', now(), now())")
    reader = events.cursor()
    assert reader.execute("select count(*) from events").fetchone() == (1,)


@pytest.mark.parametrize(
    "statement",
    ["select * from read_csv('/etc/passwd')", "attach '/tmp/other.db'", "install httpfs",
     "SET enable_external_access = true", "SET lock_configuration = false", "SET TimeZone = 'Europe/Paris'"],
)
def test_sandbox_holds_on_every_cursor(events, statement):
    with pytest.raises(duckdb.Error):
        events.cursor().execute(statement)


def test_every_cursor_is_utc(events):
    assert events.cursor().execute("select current_setting('TimeZone')").fetchone()[0] in ("UTC", "Etc/UTC")


def test_timeout_interrupts(events):
    compiled = compile_hogql(SLOW, CompileContext(team_id=1))
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError) as info:
        execute(events.cursor(), compiled, timeout_seconds=0.3)
    assert time.monotonic() - started < 5
    assert info.value.status == 504


def test_cancel_interrupts(events):
    compiled = compile_hogql(SLOW, CompileContext(team_id=1))
    cursor = events.cursor()
    cancelled = threading.Event()

    def cancel():
        time.sleep(0.2)
        cancelled.set()
        cursor.interrupt()

    threading.Thread(target=cancel).start()
    with pytest.raises(QueryCancelled):
        execute(cursor, compiled, timeout_seconds=30, cancelled=cancelled)


def test_closed_database_refuses_cursors(tmp_path):
    db = DuckDBEventStore(tmp_path / "e.duckdb")
    db.close()
    with pytest.raises(Exception):
        db.cursor()

"""Which property reads the compiler sends to a materialised column: a single hot key of
the storage ``events`` table's ``properties``, on both engines; everything else (persons,
groups, subqueries, CTEs, nested keys, keys without a column) parses the JSON. The answers
are checked on a real DuckDB in ``tests/unit/store/test_hot_columns.py``."""

from __future__ import annotations

import pytest

from hedgerow.hogql import CompileContext, compile_hogql

HOT = [
    ("select properties.$browser from events", ['"mat_$browser"']),
    ("select e.properties.$os from events e join persons p on p.id = e.person_id", ['"e"."mat_$os"']),
    ("select count() from events where properties.$current_url like '%/docs%'", ['"mat_$current_url"']),
    ("select properties.$pathname, count() from events group by 1", ['"mat_$pathname"']),
    ("with x as (select properties.$host as h from events) select h from x", ['"mat_$host"']),
    ("select (select count() from events where properties.$referring_domain = 'a')", ['"mat_$referring_domain"']),
]
COLD = [
    "select properties.$browser from persons",
    "select properties.$browser from groups",
    "select person.properties.$browser from events",
    "select properties.$browser.version from events",
    "select properties.$session_id, properties.$window_id from events",  # DuckDB's columns hold other values
    "select properties.$lib from events",
    "select t.properties.$browser from (select properties from events) t",
    "with events as (select properties, timestamp from events) select properties.$browser from events",
]


@pytest.mark.parametrize(("query", "columns"), HOT)
def test_a_hot_event_property_reads_its_column(query, columns):
    sql = compile_hogql(query, CompileContext(team_id=1)).sql
    assert all(column in sql for column in columns) and "json_extract" not in sql, sql


@pytest.mark.parametrize("query", COLD)
def test_other_reads_parse_the_document(query):
    sql = compile_hogql(query, CompileContext(team_id=1)).sql
    assert "mat_" not in sql and "json_extract_string" in sql, sql


def test_a_declared_type_casts_the_column():
    ctx = CompileContext(team_id=1, property_types={("event", "$os"): "Numeric", ("event", "$browser"): "Boolean"})
    sql = compile_hogql("select properties.$os, properties.$browser from events", ctx).sql
    assert 'TRY_CAST("events"."mat_$os" AS DOUBLE)' in sql and 'TRY_CAST("events"."mat_$browser" AS BOOLEAN)' in sql


def test_a_cte_named_events_shadows_the_columns_on_clickhouse_too():
    sql = compile_hogql(COLD[-1], CompileContext(team_id=1), engine="clickhouse").sql
    assert "mat_" not in sql and "JSONExtract" in sql
    assert "`mat_$browser`" in compile_hogql(HOT[0][0], CompileContext(team_id=1), engine="clickhouse").sql

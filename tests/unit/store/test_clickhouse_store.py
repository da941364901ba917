"""The ClickHouse events store on the embedded engine (chdb): URLs, migrations, the writer's
dedup, identity state, and the limits every HogQL query runs under.

Each test runs through both connections: chdb's own session, and ``clickhouse-connect`` (the
driver a ``clickhouse://`` server URL uses) over its chdb backend, so the driver's parameter
binding and inserts are exercised without a server. chdb runs one embedded server per
process: every store here is a database of its own in the process's in-memory server (the one
the HogQL parity tests also use).
"""

from __future__ import annotations

import itertools
import os
import uuid

import pytest

from hedgerow.hogql import CompileContext, compile_hogql
from hedgerow.errors import Exposed
from hedgerow.hogql.context import CompiledQuery
from hedgerow.hogql.errors import LimitExceeded, QueryError, QueryTimeoutError
from hedgerow.ingest.persons import SealedChanges
from hedgerow.store.events.clickhouse import ClickHouseEventStore, migrate
from hedgerow.store.events.clickhouse_connection import ChdbConnection, ServerConnection
from hedgerow.store.events.urls import parse_events_url
from hedgerow.store.events.clickhouse_query import execute
from hedgerow.store.events.clickhouse_schema import MIGRATIONS
from hedgerow.store.events.protocol import PersonFilter, WriteBatch

_ids = itertools.count()
T0 = 1_717_236_000_000_000  # 2024-06-01 10:00:00 UTC, in microseconds


@pytest.fixture(scope="module", params=["chdb", "clickhouse-connect"])
def connection(request):
    if request.param == "chdb":
        yield ChdbConnection(":memory:")
        return
    import clickhouse_connect

    yield ServerConnection(clickhouse_connect.get_client(interface="chdb"), settings_in_sql=True)


@pytest.fixture
def store(connection):
    database = f"store_test_{os.getpid()}_{next(_ids)}"
    events = ClickHouseEventStore(connection, database=database)
    yield events
    connection.command(f"DROP DATABASE IF EXISTS {database}")


def event_row(team: int = 1, uuid_text: str | None = None, distinct_id: str = "d", ts: int = T0) -> tuple:
    return (team, uuid_text or str(uuid.uuid4()), "tick", distinct_id, '{"a": 1}', ts, ts, None, "{}", None,
            "s1", None, "", "", "", "", "", "")  # fmt: skip


def count(store: ClickHouseEventStore, sql: str = "SELECT count() FROM events") -> int:
    return store.connection.query(sql).rows[0][0]


# -- URLs ----------------------------------------------------------------------------------


def test_events_urls_name_an_engine_and_where():
    assert parse_events_url("duckdb:////var/h/events.duckdb").path == "/var/h/events.duckdb"
    chdb = parse_events_url("chdb:///rel/dir")
    assert (chdb.engine, chdb.path) == ("chdb", "rel/dir")
    server = parse_events_url("clickhouse://ana:p%40ss@ch.internal:9123/analytics")
    assert (server.engine, server.host, server.port, server.username, server.password, server.database) == (
        "clickhouse", "ch.internal", 9123, "ana", "p@ss", "analytics")
    assert parse_events_url("clickhouse://ch").port == 8123
    assert parse_events_url("clickhouses://ch").port == 8443


@pytest.mark.parametrize("url", ["sqlite:///x", "chdb:///", "duckdb:///", "clickhouse://ch/bad-name;drop",
                                 "clickhouse://ch:notaport/db", "clickhouse:///db"])
def test_unknown_or_malformed_events_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_events_url(url)


# -- schema --------------------------------------------------------------------------------


def test_schema_is_posthogs_layout(store):
    rows = store.connection.query(
        "SELECT name, engine, partition_key, sorting_key FROM system.tables WHERE database = {db:String}",
        {"db": store.database},
    ).rows
    tables = {name: (engine, partition, sorting) for name, engine, partition, sorting in rows}
    assert tables["events"] == ("ReplacingMergeTree", "toYYYYMM(timestamp)",
                                "team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(uuid)")
    for name, key in (("person", "team_id, id"), ("person_distinct_id2", "team_id, distinct_id"),
                      ("person_distinct_id_overrides_raw", "team_id, distinct_id")):
        assert tables[name][0] == "ReplacingMergeTree" and tables[name][2] == key
    for view in ("persons", "person_distinct_ids", "person_distinct_id_overrides", "groups"):
        assert tables[view][0] == "View"


def test_migrations_are_recorded_and_run_once(store):
    assert migrate(store.connection, store.database) == []  # already applied when the store opened
    recorded = store.connection.query(f"SELECT version FROM {store.database}.hedgerow_schema_migrations ORDER BY version").rows
    assert [r[0] for r in recorded] == [m.version for m in MIGRATIONS]
    # a migration interrupted before it was recorded runs again without failing
    store.connection.command(f"TRUNCATE TABLE {store.database}.hedgerow_schema_migrations")
    assert migrate(store.connection, store.database) == [m.version for m in MIGRATIONS]


def test_reopening_keeps_the_data(connection, store):
    store.commit(WriteBatch(events=[event_row()]))
    again = ClickHouseEventStore(connection, database=store.database)
    assert count(again) == 1


# -- the writer ----------------------------------------------------------------------------


def test_a_retried_batch_is_stored_once(store):
    rows = [event_row(team=1), event_row(team=2), event_row(team=1)]
    assert store.commit(WriteBatch(events=rows)) == set()
    extra = event_row(team=1)
    # the ingestion dedup marks retried uuids it is unsure of as "maybe": the writer looks them up
    skipped = store.commit(WriteBatch(events=[*rows, extra], maybe=[0, 1, 2, 3]))
    assert skipped == {0, 1, 2}
    assert count(store) == 4
    # the same uuid in another team is another event
    other_team = (2, *rows[0][1:])
    assert store.commit(WriteBatch(events=[other_team], maybe=[0])) == set()
    assert count(store) == 5


def test_stored_uuids_reload_for_the_dedup_window(store):
    rows = [event_row(team=1), event_row(team=7)]
    store.commit(WriteBatch(events=rows))
    teams, hi, lo = store.load_uuid_columns()
    loaded = {(int(t), (int(h) << 64) | int(l)) for t, h, l in zip(teams, hi, lo)}
    assert loaded == {(r[0], uuid.UUID(r[1]).int) for r in rows}


def test_identity_changes_are_versioned_upserts(store):
    person, other = str(uuid.uuid4()), str(uuid.uuid4())
    first = SealedChanges(
        persons=[(1, person, 1, T0, '{"email": "a@x"}', False, 0), (1, other, 2, T0, "{}", False, 0)],
        distinct_ids=[(1, "anon", person, 0), (1, "a", person, 0), (1, "b", other, 0)],
    )
    store.commit(WriteBatch(changes=[first]))
    second = SealedChanges(
        persons=[(1, person, 1, T0, '{"email": "a@y", "plan": "pro"}', True, 1)],
        deleted_persons=[(1, other)],
        deleted_distinct_ids=[(1, "b")],
        overrides=[(1, "anon", person, 1)],
    )
    store.commit(WriteBatch(changes=[second]))
    loaded = store.load_identity()
    assert [(p[1], p[4], p[5], p[6]) for p in loaded.persons] == [(person, '{"email": "a@y", "plan": "pro"}', True, 1)]
    assert sorted(d[1] for d in loaded.distinct_ids) == ["a", "anon"]
    assert loaded.next_int_id == 3
    page, total = store.list_persons(1, PersonFilter(properties=[{"key": "plan", "value": "pro"}]))
    assert total == 1 and page[0]["distinct_ids"] == ["a", "anon"] and page[0]["properties"]["email"] == "a@y"
    assert store.get_person(1, uuid=other) is None
    assert store.list_persons(2, PersonFilter()) == ([], 0)
    overrides = store.connection.query("SELECT distinct_id, toString(person_id) FROM person_distinct_id_overrides").rows
    assert overrides == [["anon", person]]


def test_a_store_restarts_its_versions_after_the_last_commit(connection, store):
    person = str(uuid.uuid4())
    store.commit(WriteBatch(changes=[SealedChanges(persons=[(1, person, 1, T0, '{"v": 1}', False, 0)])]))
    reopened = ClickHouseEventStore(connection, database=store.database)
    reopened.commit(WriteBatch(changes=[SealedChanges(persons=[(1, person, 1, T0, '{"v": 2}', False, 0)])]))
    assert [p[4] for p in reopened.load_identity().persons] == ['{"v": 2}']


def test_shared_feed_versions_decide_which_identity_row_wins_whatever_the_insert_order(store):
    """Several processes write a shared server, each at its own pace: rows carry the shared
    feed's number, so a state inserted late but older than what is stored loses."""
    person, other = str(uuid.uuid4()), str(uuid.uuid4())
    group = (1, 0, "acme", '{"size": 9}', T0, T0)
    newest = SealedChanges(persons=[(1, person, 1, T0, '{"v": "new"}', True, 3)],
                           distinct_ids=[(1, "d", other, 2)], deleted_persons=[(1, other)],
                           groups=[group], version=9)  # fmt: skip
    store.commit(WriteBatch(changes=[newest]))
    older = SealedChanges(persons=[(1, person, 1, T0, '{"v": "old"}', False, 1), (1, other, 2, T0, "{}", False, 0)],
                          distinct_ids=[(1, "d", person, 1)], groups=[(*group[:3], '{"size": 1}', T0, T0)],
                          version=5)  # fmt: skip
    store.commit(WriteBatch(changes=[older]))
    loaded = store.load_identity()
    assert [(p[1], p[4]) for p in loaded.persons] == [(person, '{"v": "new"}')]  # `other` stays deleted
    assert [(d[1], d[2]) for d in loaded.distinct_ids] == [("d", other)]
    assert [g[3] for g in loaded.groups] == ['{"size": 9}']
    # In one commit too: each row keeps its own change's number.
    store.commit(WriteBatch(changes=[SealedChanges(persons=[(1, person, 1, T0, '{"v": "newer"}', True, 4)],
                                                   version=12),
                                     SealedChanges(groups=[(*group[:3], '{"size": 2}', T0, T0)], version=7)]))
    loaded = store.load_identity()
    assert [p[4] for p in loaded.persons] == ['{"v": "newer"}'] and [g[3] for g in loaded.groups] == ['{"size": 9}']


# -- queries -------------------------------------------------------------------------------


def run(store: ClickHouseEventStore, query: str, **kwargs):
    compiled = compile_hogql(query, CompileContext(team_id=1), engine="clickhouse")
    return store.execute(compiled, **kwargs)


def test_values_travel_as_bound_parameters(store):
    hostile = "x' OR 1=1 -- \\' `) ; DROP TABLE events"
    store.commit(WriteBatch(events=[event_row(distinct_id=hostile), event_row(distinct_id="plain")]))
    result = run(store, f"select distinct_id as `we\\`ird` from events where distinct_id = {_hogql_string(hostile)}")
    assert result.results == [[hostile]]
    assert result.columns == ["we`ird"]
    assert count(store) == 2


def _hogql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_a_result_past_its_byte_cap_is_refused(store):
    compiled = compile_hogql("select repeat('x', 1000) from numbers(2000)", CompileContext(team_id=1), engine="clickhouse")
    with pytest.raises(LimitExceeded):
        execute(store.connection, compiled, max_result_bytes=100_000)


def test_queries_run_read_only_and_time_boxed(store):
    """Even SQL that got past the compiler could not write: every query runs with readonly."""
    rogue = CompiledQuery(sql="INSERT INTO events (team_id, uuid, event, distinct_id) SELECT 1, generateUUIDv4(), 'x', 'y'",
                          params=(), columns=(), types=(), hogql="", timezone="UTC", limit=None, offset=0, paginated=False)
    with pytest.raises(Exposed):
        execute(store.connection, rogue)
    assert count(store) == 0
    slow = CompiledQuery(sql="SELECT count() FROM numbers(10000000000) WHERE sipHash64(number) = 0", params=(),
                         columns=("c",), types=(("c", "UInt64"),), hogql="", timezone="UTC", limit=None, offset=0,
                         paginated=False)  # fmt: skip
    with pytest.raises(QueryTimeoutError):
        execute(store.connection, slow, timeout_seconds=1)


def test_team_guard_holds_on_clickhouse(store):
    store.commit(WriteBatch(events=[event_row(team=1), event_row(team=2), event_row(team=2)]))
    assert run(store, "select count() from events").results == [[1]]


def test_a_bad_value_is_a_query_error_not_a_500(store):
    with pytest.raises(QueryError):
        run(store, "select toDate('not a date')")


@pytest.mark.parametrize("value", [
    "a\\b", "it's", "tab\there", "nl\nx\r", "x' OR 1=1 -- \\' `)", "\\N", "é", "", "{p1:String}",
    ["a\\'b", "c\n", ""], [1, None], [], 2**63 + 5, -1.5, True,
])  # fmt: skip
def test_bound_values_reach_clickhouse_unchanged(connection, value):
    from hedgerow.hogql.render.parameters import parameter_type

    got = connection.query("SELECT {v:%s}" % parameter_type(value), {"v": value}).rows[0][0]
    assert got == (list(value) if isinstance(value, list) else value)


def test_settings_refuse_an_events_url_of_no_known_engine(tmp_path):
    from hedgerow.config import ConfigError, Settings

    assert Settings(data_dir=tmp_path, events_url="chdb:///x").events_url == "chdb:///x"
    assert Settings(data_dir=tmp_path).events_url.startswith("duckdb:///")
    with pytest.raises(ConfigError):
        Settings(data_dir=tmp_path, events_url="mysql://db/events")
    assert not (tmp_path / "meta.sqlite3").exists()


def test_hot_person_properties_read_their_materialised_columns_with_the_same_answers(store):
    """A person property filter on events reads ``pmat_<key>`` instead of parsing the
    person's JSON on every event, with the answers the JSON gives (odd values included)."""
    from hedgerow.hogql.hot_properties import MATERIALIZED_PERSON

    columns = dict(store.connection.query(
        "SELECT name, default_kind FROM system.columns WHERE database = {db:String} AND table = 'events'",
        {"db": store.database},
    ).rows)  # fmt: skip
    assert all(columns.get(column) == "MATERIALIZED" for column in MATERIALIZED_PERSON.values())
    people = ['{"plan": "pro", "email": "a@x"}', '{"plan": 3, "name": null}', '{"plan": {"tier": 1}}', "{}",
              '{"plan": "pr\\u006f", "email": ""}']  # fmt: skip
    rows = []
    for n, person in enumerate(people):
        row = list(event_row(distinct_id=f"p{n}"))
        row[8] = person
        rows.append(tuple(row))
    store.commit(WriteBatch(events=rows))
    hot = ("select distinct_id, person.properties.plan, person.properties.email, person.properties.name from events"
           " where person.properties.plan = 'pro' or person.properties.plan is null or person.properties.plan = '3'"
           " order by distinct_id")  # fmt: skip
    compiled = compile_hogql(hot, CompileContext(team_id=1), engine="clickhouse")
    assert "`pmat_plan`" in compiled.sql and "JSONExtract" not in compiled.sql
    expected = [["p0", "pro", "a@x", None], ["p1", "3", None, None], ["p3", None, None, None], ["p4", "pro", "", None]]
    assert store.execute(compiled).results == expected
    # The same documents as event properties (no column for these keys): the JSON's answers.
    store.commit(WriteBatch(events=[(*r[:3], "e" + r[3][1:], r[8], *r[5:]) for r in rows]))
    plain = compile_hogql(hot.replace("person.properties.", "properties."), CompileContext(team_id=1),
                          engine="clickhouse")  # fmt: skip
    assert "mat_" not in plain.sql
    from_json = [r for r in store.execute(plain).results if r[0].startswith("e")]
    assert from_json == [["e" + r[0][1:], *r[1:]] for r in expected]


def test_an_unknown_person_filter_operator_is_the_shared_refusal(store):
    from hedgerow.store.events.person_filters import UnsupportedFilter

    with pytest.raises(UnsupportedFilter):
        store.list_persons(1, PersonFilter(properties=[{"key": "a", "operator": "near", "value": 1}]))


def test_hot_properties_read_their_materialised_columns(store):
    from hedgerow.hogql.hot_properties import MATERIALIZED

    columns = dict(store.connection.query(
        "SELECT name, default_kind FROM system.columns WHERE database = {db:String} AND table = 'events'",
        {"db": store.database},
    ).rows)
    assert all(columns.get(column) == "MATERIALIZED" for column in MATERIALIZED.values())
    props = '{"$browser": "Chrome", "$os": 7, "$current_url": null, "$pathname": {"a": 1}, "$host": "it\\u0027s"}'
    row = list(event_row())
    row[4] = props
    store.commit(WriteBatch(events=[tuple(row)]))
    read = "select properties.$browser, properties.$os, properties.$current_url, properties.$pathname, properties.$host from events"
    compiled = compile_hogql(read, CompileContext(team_id=1), engine="clickhouse")
    assert "`mat_$browser`" in compiled.sql and "JSONExtract" not in compiled.sql
    assert store.execute(compiled).results == [["Chrome", "7", None, '{"a":1}', "it's"]]
    # the same document read through a subquery has no such column: it parses the JSON
    nested = compile_hogql("select t.properties.$browser from (select properties from events) t",
                           CompileContext(team_id=1), engine="clickhouse")  # fmt: skip
    assert "mat_" not in nested.sql and store.execute(nested).results == [["Chrome"]]


def test_a_long_query_does_not_hold_up_the_writer(connection, store):
    """Queries and the writer use separate sessions (chdb) or requests (server driver)."""
    import threading

    if isinstance(connection, ServerConnection):
        pytest.skip("the driver's chdb backend runs one statement at a time; a server runs requests in parallel")
    marker = f"slow-{uuid.uuid4().hex}"
    slow = threading.Thread(target=lambda: connection.query(f"SELECT '{marker}', sleepEachRow(1) FROM numbers(4)"
                                                            " SETTINGS max_block_size = 1"))  # fmt: skip
    slow.start()
    seen = "SELECT count() FROM system.processes WHERE query LIKE {m:String} AND query NOT LIKE '%system.processes%'"
    while not connection.query(seen, {"m": f"%{marker}%"}).rows[0][0]:  # readiness: the query runs
        assert slow.is_alive(), "the slow query ended before it was seen running"
    store.commit(WriteBatch(events=[event_row()]))
    assert slow.is_alive(), "the commit waited for the query"
    slow.join()
    assert count(store) == 1


def test_database_names_are_refused_unless_plain(connection):
    with pytest.raises(ValueError):
        ClickHouseEventStore(connection, database="x; DROP DATABASE y")

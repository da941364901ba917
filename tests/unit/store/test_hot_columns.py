"""Hot event properties as their own columns on DuckDB (``"mat_$browser"`` ...): every write
path fills them with exactly ``json_extract_string(properties, '/<key>')``, a file made
before them is upgraded at open (atomically: a kill half-way leaves a file that opens and
upgrades next time), and HogQL answers the same from the column as from the document."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import duckdb
import pytest

from hedgerow.hogql import CompileContext, compile_hogql
from hedgerow.store.events.duckdb import DuckDBEventStore
from hedgerow.hogql.hot_properties import DUCKDB_MATERIALIZED
from hedgerow.store.events.protocol import WriteBatch
from hedgerow.store.events.schema import HOT_COLUMNS, TABLES
from hedgerow.testing import write_events

T0 = 1_717_200_000_000_000  # 2024-06-01, microseconds

ODD_VALUES = [
    None, "null", "5", "1.50", "-0", "1e3", "true", "false", '{"a": [1, "\\u00e9"]}', "[1, null]", '""',
    '"\\u00dcn\\u00efc\\u00f8d\\u00e9 \\u2713 \\ud83d\\ude42"', '"a\\"b\\\\c"', '"null"', '"12.5"', '"true"',
    '"2024-01-02T03:04:05Z"', '"  Chrome  "',
]  # fmt: skip
"""JSON texts of a hot key's value (None: the key is missing), the odd ones included."""


def odd_documents() -> list[str]:
    """One JSON document per odd value, every hot key set (each key a different value)."""
    keys = list(DUCKDB_MATERIALIZED)
    docs = []
    for n in range(len(ODD_VALUES)):
        members = [f'"$lib": "web"'] + [
            f"{json.dumps(key)}: {value}"
            for i, key in enumerate(keys)
            if (value := ODD_VALUES[(n + i) % len(ODD_VALUES)]) is not None
        ]
        docs.append("{" + ", ".join(members) + "}")
    return docs + ["{}"]


def event_row(n: int, properties: str, team: int = 1) -> tuple:
    return (team, str(uuid.UUID(int=n + 1)), "$pageview", f"d{n}", properties, T0 + n, T0 + n, None, "{}", None,
            None, None, "", "", "", "", "", "")  # fmt: skip


def mismatches(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Rows whose hot columns differ from the document's ``json_extract_string``."""
    differs = " OR ".join(f'"{column}" IS DISTINCT FROM json_extract_string(properties, \'/{key}\')'
                          for key, column in DUCKDB_MATERIALIZED.items())  # fmt: skip
    return conn.execute(f"SELECT uuid, properties FROM events WHERE {differs}").fetchall()


@pytest.fixture
def store(tmp_path):
    events = DuckDBEventStore(tmp_path / "events.duckdb")
    yield events
    events.close()


def test_ingestion_stores_each_hot_property_as_json_extract_string_gives_it(store):
    store.commit(WriteBatch(events=[event_row(n, doc) for n, doc in enumerate(odd_documents())]))
    conn = store.cursor()
    filled = conn.execute('SELECT count("mat_$browser"), count(*) FROM events').fetchone()
    assert filled == (len(ODD_VALUES) - 2, len(ODD_VALUES) + 1)  # missing and JSON null are NULL
    assert mismatches(conn) == []
    assert conn.execute('SELECT "mat_$browser" FROM events ORDER BY uuid LIMIT 2 OFFSET 8').fetchall() == [
        ('{"a":[1,"é"]}',), ("[1,null]",)]


def test_the_fixture_loader_fills_the_hot_columns(tmp_path):
    write_events(tmp_path, 1, [{"event": "e", "distinct_id": "a", "properties": {"$browser": "Firefox", "$os": 3}},
                               {"event": "e", "distinct_id": "b", "properties": {"$pathname": None}}])
    conn = duckdb.connect(str(tmp_path / "events.duckdb"))
    try:
        assert conn.execute('SELECT "mat_$browser", "mat_$os" FROM events ORDER BY distinct_id').fetchall() == [
            ("Firefox", "3"), (None, None)]
        assert mismatches(conn) == []
    finally:
        conn.close()


# -- HogQL: the column gives the document's answers ------------------------------------------

TYPES = ["String", "Numeric", "Boolean", "DateTime", None]


@pytest.mark.parametrize("declared", TYPES)
def test_a_hot_read_answers_as_the_document_read_for_odd_values(store, declared):
    """The same HogQL over the storage table (reads the columns) and through a subquery (the
    guard sends it to the JSON): identical rows, with a declared type's cast on top."""
    store.commit(WriteBatch(events=[event_row(n, doc) for n, doc in enumerate(odd_documents())]))
    store.commit(WriteBatch(events=[event_row(100 + n, doc, team=2) for n, doc in enumerate(odd_documents())]))
    types = {("event", key): declared for key in DUCKDB_MATERIALIZED} if declared else {}
    ctx = CompileContext(team_id=1, property_types=types)
    reads = ", ".join(f"properties.{key}" for key in DUCKDB_MATERIALIZED)
    hot = compile_hogql(f"select uuid, {reads} from events order by uuid", ctx)
    assert all(f'"{column}"' in hot.sql for column in HOT_COLUMNS) and "json_extract" not in hot.sql
    document = compile_hogql(f"select uuid, {reads.replace('properties.', 't.properties.')} from"
                             " (select uuid, properties from events) t order by uuid", ctx)  # fmt: skip
    assert "mat_" not in document.sql
    from_columns = store.execute(hot).results
    assert len(from_columns) == len(ODD_VALUES) + 1
    assert from_columns == store.execute(document).results
    if declared is None:  # the untyped read is json_extract_string's text, whatever the path
        raw = store.query("SELECT CAST(uuid AS VARCHAR), " + ", ".join(
            f"json_extract_string(properties, '/{key}')" for key in DUCKDB_MATERIALIZED)
            + " FROM events WHERE team_id = 1 ORDER BY uuid")  # fmt: skip
        assert [[str(r[0]), *r[1:]] for r in from_columns] == [list(r) for r in raw]


def test_filters_and_breakdowns_on_a_hot_property_match_the_document(store):
    store.commit(WriteBatch(events=[event_row(n, doc) for n, doc in enumerate(odd_documents())]))
    ctx = CompileContext(team_id=1)
    for query in ("select properties.$browser as b, count() from events group by b order by b",
                  "select count() from events where properties.$os = 'true' or properties.$os is null",
                  "select count() from events where properties.$browser like '%n%'"):
        hot = compile_hogql(query, ctx)
        assert '"mat_$' in hot.sql
        document = compile_hogql(query.replace("from events", "from (select properties from events) t"), ctx)
        assert "mat_" not in document.sql
        assert store.execute(hot).results == store.execute(document).results
    # a CTE named events has no such columns: its reads parse the JSON
    shadowed = compile_hogql("with events as (select properties, timestamp from events)"
                             " select properties.$browser as b from events order by b", ctx)  # fmt: skip
    plain = compile_hogql("select properties.$browser as b from events order by b", ctx)
    assert store.execute(shadowed).results == store.execute(plain).results


# -- files made before the hot columns --------------------------------------------------------

OLD_EVENTS = """
CREATE TABLE events (
    team_id            INTEGER   NOT NULL,
    uuid               UUID      NOT NULL,
    event              VARCHAR   NOT NULL,
    distinct_id        VARCHAR   NOT NULL,
    properties         VARCHAR   NOT NULL DEFAULT '{}' USING COMPRESSION zstd,
    timestamp          TIMESTAMP NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    person_id          UUID,
    person_properties  VARCHAR   NOT NULL DEFAULT '{}' USING COMPRESSION zstd,
    person_created_at  TIMESTAMP,
    "$session_id"      VARCHAR,
    "$window_id"       VARCHAR,
    elements_chain     VARCHAR   NOT NULL DEFAULT '' USING COMPRESSION zstd,
    "$group_0"         VARCHAR   NOT NULL DEFAULT '',
    "$group_1"         VARCHAR   NOT NULL DEFAULT '',
    "$group_2"         VARCHAR   NOT NULL DEFAULT '',
    "$group_3"         VARCHAR   NOT NULL DEFAULT '',
    "$group_4"         VARCHAR   NOT NULL DEFAULT ''
)
"""
"""The events table as files written before the hot columns have it."""


def old_file(path, rows: int = 0, *, docs: list[str] | None = None, extra: str | None = None) -> None:
    """A file in the layout before the hot columns: ``docs`` as events, then ``rows``
    generated events; ``extra`` is a statement run last (e.g. one hot column already added)."""
    conn = duckdb.connect(str(path))
    conn.execute(OLD_EVENTS)
    for ddl in TABLES:
        conn.execute(ddl)
    for n, doc in enumerate(docs or []):
        conn.execute("INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at)"
                     " VALUES (1, ?, 'e', ?, ?, TIMESTAMP '2024-06-01', TIMESTAMP '2024-06-01')",
                     [str(uuid.UUID(int=n + 1)), f"d{n:03d}", doc])  # fmt: skip
    if rows:
        conn.execute(
            "INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at)"
            " SELECT 1, uuid(), '$pageview', 'u' || (i % 5000), json_object('$browser', 'B' || (i % 7),"
            " '$current_url', 'https://example.com/' || i, 'pad', repeat('x', 200 + i % 50))::VARCHAR,"
            " TIMESTAMP '2024-06-01' + to_microseconds(i), TIMESTAMP '2024-06-01' FROM range(?) t(i)", [rows])
    if extra:
        conn.execute(extra)
    conn.execute("CHECKPOINT")
    conn.close()


def columns_of_events(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'events'"
                                       " ORDER BY column_index").fetchall()]  # fmt: skip


def test_a_file_from_before_gets_the_hot_columns_filled_at_open(tmp_path):
    path = tmp_path / "events.duckdb"
    old_file(path, docs=odd_documents())
    store = DuckDBEventStore(path)
    try:
        conn = store.cursor()
        assert columns_of_events(conn)[-len(HOT_COLUMNS):] == list(HOT_COLUMNS)
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (len(ODD_VALUES) + 1,)
        assert mismatches(conn) == []
        # the rebuilt table keeps the layout's defaults, and ingestion writes into it
        conn.execute("INSERT INTO events (team_id, uuid, event, distinct_id, timestamp, created_at)"
                     " VALUES (1, uuid(), 'bare', 'x', now(), now())")
        assert conn.execute("SELECT properties, elements_chain FROM events WHERE event = 'bare'").fetchone() == ("{}", "")
        store.commit(WriteBatch(events=[event_row(500, '{"$browser": "Edge"}')]))
        assert conn.execute("""SELECT "mat_$browser" FROM events WHERE distinct_id = 'd500'""").fetchone() == ("Edge",)
        conn.execute("COMMENT ON TABLE events IS 'this very table'")
    finally:
        store.close()
    again = DuckDBEventStore(path)  # nothing left to add: the table is not rebuilt again
    try:
        assert again.query("SELECT comment FROM duckdb_tables() WHERE table_name = 'events'") == [("this very table",)]
    finally:
        again.close()


def test_a_file_with_some_hot_columns_gets_the_others(tmp_path):
    path = tmp_path / "events.duckdb"
    old_file(path, docs=odd_documents(),
             extra="""ALTER TABLE events ADD COLUMN "mat_$browser" VARCHAR DEFAULT 'kept'""")
    store = DuckDBEventStore(path)
    try:
        conn = store.cursor()
        assert sorted(columns_of_events(conn)[-len(HOT_COLUMNS):]) == sorted(HOT_COLUMNS)
        assert conn.execute('SELECT DISTINCT "mat_$browser" FROM events').fetchall() == [("kept",)]
        assert conn.execute("""SELECT count(*) FROM events WHERE "mat_$os" IS DISTINCT FROM
                               json_extract_string(properties, '/$os')""").fetchone() == (0,)
    finally:
        store.close()


_OPEN = "import sys\nfrom hedgerow.store.events.duckdb import DuckDBEventStore\nDuckDBEventStore(sys.argv[1]).close()\nprint('opened')\n"


def test_a_kill_during_the_upgrade_leaves_a_file_that_upgrades_next_time(tmp_path):
    path = tmp_path / "events.duckdb"
    rows = 1_000_000
    old_file(path, rows)
    before = path.stat().st_size
    child = subprocess.Popen([sys.executable, "-c", _OPEN, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        # the rebuild writes the new table into the file as it goes: kill once it has begun
        while path.stat().st_size <= before and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        out, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL and "opened" not in out, "the upgrade finished before the kill"
    conn = duckdb.connect(str(path))
    try:  # the kill left the old layout, whole
        assert not set(HOT_COLUMNS) & set(columns_of_events(conn))
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (rows,)
    finally:
        conn.close()
    store = DuckDBEventStore(path)
    try:
        conn = store.cursor()
        assert conn.execute('SELECT count(*), count(DISTINCT "mat_$browser") FROM events').fetchone() == (rows, 7)
        assert mismatches(conn) == []
        assert not conn.execute("SELECT * FROM duckdb_tables() WHERE table_name = 'events_rebuilt'").fetchall()
    finally:
        store.close()

"""Query performance: HogQL over HTTP against a live server vs hand-written SQL on DuckDB.

Generates synthetic events (default 10M: ~20 event names, 500k distinct ids, JSON properties
with $browser, $current_url..., person properties with email/plan, 30 days) straight into a
DuckDB file in a temp dir, then, in the same run:

1. times hand-written SQL on the raw engine (same file, same thread count), then
2. starts ``hedgerow serve`` on that data dir and times the same questions as HogQL through
   ``POST /api/projects/:id/query/`` (``refresh: force_blocking``, so never from cache).

Always uncached: every HTTP request says ``"refresh": "force_blocking"``, so the figures are
the engine's, never the result cache's.

Prints both, the ratio, and whether the targets hold (HogQL <= 1.5x raw + 10 ms; count by
event under 150 ms end to end). Then, on the raw engine alone, each question's compiled SQL
(as the server would run it, parameters bound) against the hand-written SQL: their times and,
with ``--explain``, both ``EXPLAIN ANALYZE`` plans, to tell the compiler's cost from the
server's. Also times the property breakdown on a materialised column.

With ``--engine chdb`` the same events are also copied into the embedded ClickHouse and a
second server runs on it: the HogQL figures of both engines print side by side.

    .venv/bin/python bench/query.py [--events 10000000] [--runs 7] [--keep DIR] [--explain]
        [--engine duckdb|chdb]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

from hedgerow.hogql import CompileContext, compile_hogql
from hedgerow.store.events.schema import HOT_COLUMN_LIST, HOT_VALUES, TABLES, hot_parse
from hedgerow.testing import LiveServer, cli

EVENT_NAMES = [
    "$pageview", "$autocapture", "$pageleave", "$identify", "$screen", "signed_up", "logged_in",
    "purchase", "add_to_cart", "checkout_started", "search", "video_played", "file_uploaded",
    "invite_sent", "settings_changed", "feature_used", "error_shown", "subscription_renewed",
    "$feature_flag_called", "$groupidentify",
]  # fmt: skip
BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", "Opera", "Samsung Internet", "Chrome iOS", "Brave"]
PAGES = ["/", "/pricing", "/docs", "/blog", "/signup", "/login", "/app", "/app/settings", "/about", "/careers"]
OSES = ["Mac OS X", "Windows", "iOS", "Android", "Linux"]
PLANS = ["free", "pro", "enterprise"]


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def generate(path: Path, team_id: int, events: int, users: int = 500_000) -> float:
    """Write ``events`` synthetic events for ``team_id`` into the DuckDB file at ``path``."""
    started = time.perf_counter()
    conn = duckdb.connect(str(path))
    for ddl in TABLES:
        conn.execute(ddl)
    conn.execute(
        f"""
        INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at,
                            person_id, person_properties, person_created_at, "$session_id", {HOT_COLUMN_LIST})
        WITH base AS (
            SELECT i,
                   -- skewed: a few events dominate, like real products
                   least(19, floor(pow(random(), 2.5) * 20))::INT AS e,
                   (hash(i * 7919) % {users})::BIGINT AS u,
                   TIMESTAMP '2024-06-01' - to_microseconds((random() * 30 * 86400 * 1e6)::BIGINT) AS ts,
                   random() AS r
            FROM range({events}) t(i)
        ), generated AS (
            SELECT {team_id} AS team_id, uuid() AS uuid, ({_list(EVENT_NAMES)})[e + 1] AS event,
                   'user_' || u AS distinct_id,
                   json_object(
                       '$browser', ({_list(BROWSERS)})[(u % {len(BROWSERS)}) + 1],
                       '$os', ({_list(OSES)})[(u % {len(OSES)}) + 1],
                       '$current_url', 'https://example.com' || ({_list(PAGES)})[((hash(i) % {len(PAGES)}) + 1)::BIGINT],
                       '$session_id', 'sess_' || u || '_' || (epoch(ts)::BIGINT // 1800),
                       '$lib', 'web', 'price', round(r * 100, 2),
                       'plan', ({_list(PLANS)})[((hash(i * 31) % {len(PLANS)}) + 1)::BIGINT],
                       'amount', round(r * 250, 2)
                   )::VARCHAR AS properties,
                   ts AS timestamp, ts AS created_at,
                   md5(u::VARCHAR)::UUID AS person_id,
                   json_object('email', 'user_' || u || '@example.com',
                               'plan', ({_list(PLANS)})[least(2, (u % 10) // 4) + 1])::VARCHAR AS person_properties,
                   TIMESTAMP '2024-01-01' AS person_created_at,
                   'sess_' || u || '_' || (epoch(ts)::BIGINT // 1800) AS "$session_id"
            FROM base
        )
        -- the hot columns, computed from the document as ingestion does
        SELECT * EXCLUDE (_hot), {HOT_VALUES} FROM (SELECT *, {hot_parse("properties")} FROM generated)
        ORDER BY timestamp
        """
    )
    conn.execute("CHECKPOINT")
    conn.close()
    return time.perf_counter() - started


QUESTIONS = {
    "count by event": (
        "select event, count() from events group by event order by count() desc",
        "SELECT event, count(*) FROM events WHERE team_id = {team} GROUP BY event ORDER BY 2 DESC",
    ),
    "daily uniques": (
        "select toStartOfDay(timestamp) as day, uniq(distinct_id) from events group by day order by day",
        "SELECT date_trunc('day', timestamp) AS day, count(DISTINCT distinct_id) FROM events"
        " WHERE team_id = {team} GROUP BY day ORDER BY day",
    ),
    "breakdown $browser": (
        "select properties.$browser as browser, count() from events group by browser order by count() desc",
        "SELECT json_extract_string(properties, '/$browser') AS browser, count(*) FROM events"
        " WHERE team_id = {team} GROUP BY browser ORDER BY 2 DESC",
    ),
    "sum amount by plan": (
        "select properties.plan as plan, sum(toFloat(properties.amount)) from events group by plan order by plan",
        "SELECT json_extract_string(properties, '/plan') AS plan, sum(TRY_CAST(json_extract_string(properties, '/amount') AS DOUBLE))"
        " FROM events WHERE team_id = {team} GROUP BY plan ORDER BY plan",
    ),
    "person prop filter": (
        "select count() from events where person.properties.plan = 'pro'",
        "SELECT count(*) FROM events WHERE team_id = {team}"
        " AND json_extract_string(person_properties, '/plan') = 'pro'",
    ),
}


_COPIED = ("team_id", "uuid", "event", "distinct_id", "properties", "timestamp", "created_at", "person_id",
           "person_properties", "person_created_at", "$session_id")  # fmt: skip


def copy_to_chdb(events_file: Path, chdb_dir: Path, scratch: Path) -> float:
    """Copy the DuckDB file's events into a chdb events directory (through Parquet)."""
    from hedgerow.store.events.clickhouse import ClickHouseEventStore
    from hedgerow.store.events.clickhouse_connection import ChdbConnection

    started = time.perf_counter()
    parquet = scratch / "events.parquet"
    conn = duckdb.connect(str(events_file), read_only=True)
    columns = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in ("uuid", "person_id") else f'"{c}"' for c in _COPIED)
    conn.execute(f"COPY (SELECT {columns} FROM events) TO '{parquet}' (FORMAT parquet)")
    conn.close()
    store = ClickHouseEventStore(ChdbConnection(str(chdb_dir)))
    names = ", ".join(f"`{c}`" for c in _COPIED)
    store.connection.command(f"INSERT INTO hedgerow.events ({names}) SELECT {names} FROM file('{parquet}', Parquet)")
    store.connection.command("OPTIMIZE TABLE hedgerow.events FINAL")
    store.close()
    parquet.unlink()
    return time.perf_counter() - started


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def compare(raw_conn: duckdb.DuckDBPyConnection, client: httpx.Client, url: str, team: int, runs: int):
    """Per question: raw SQL and HogQL over HTTP, interleaved run by run (so machine noise
    hits both alike); medians in ms, plus the server's own engine time for the HTTP runs."""
    figures = {}
    for name, (hogql, sql) in QUESTIONS.items():
        body = {"query": {"kind": "HogQLQuery", "query": hogql}, "refresh": "force_blocking"}
        engine: list[float] = []

        def raw(sql=sql) -> None:
            raw_conn.execute(sql.format(team=team)).fetchall()

        def http(body=body) -> None:
            response = client.post(url, json=body)
            response.raise_for_status()
            engine.append({t["k"]: t["t"] for t in response.json()["timings"]}["./execute"])

        raw(), http()  # warm both
        engine.clear()
        raw_times, http_times = [], []
        for _ in range(runs):
            raw_times.append(_timed(raw))
            http_times.append(_timed(http))
        figures[name] = (
            statistics.median(raw_times) * 1000,
            statistics.median(http_times) * 1000,
            statistics.median(engine) * 1000,
        )
    return figures


def compiled_vs_raw(conn: duckdb.DuckDBPyConnection, team: int, runs: int, explain: bool) -> dict[str, tuple[float, float]]:
    """Per question, on the raw engine: the compiled HogQL's SQL vs the hand-written SQL
    (medians in ms); with ``explain``, prints both ``EXPLAIN ANALYZE`` plans."""
    figures = {}
    for name, (hogql, sql) in QUESTIONS.items():
        compiled = compile_hogql(hogql, CompileContext(team_id=team))
        raw_sql, params = sql.format(team=team), list(compiled.params)
        conn.execute(raw_sql).fetchall(), conn.execute(compiled.sql, params).fetchall()  # warm
        raw_times, compiled_times = [], []
        for _ in range(runs):
            raw_times.append(_timed(lambda: conn.execute(raw_sql).fetchall()))
            compiled_times.append(_timed(lambda: conn.execute(compiled.sql, params).fetchall()))
        figures[name] = (statistics.median(raw_times) * 1000, statistics.median(compiled_times) * 1000)
        if explain:
            for label, text, args in (("raw", raw_sql, []), ("compiled", compiled.sql, params)):
                plan = conn.execute("EXPLAIN ANALYZE " + text, args).fetchall()[0][-1]
                print(f"\n== {name}: {label}\n{text}\n{plan}")
    return figures


def materialised(conn: duckdb.DuckDBPyConnection, team: int, runs: int) -> tuple[float, float]:
    """The $browser breakdown from JSON vs from its materialised column (which the
    generator fills, as ingestion does)."""
    json_sql = QUESTIONS["breakdown $browser"][1].format(team=team)
    column_sql = f'SELECT "mat_$browser", count(*) FROM events WHERE team_id = {team} GROUP BY 1 ORDER BY 2 DESC'
    from_json = statistics.median(_timed(lambda: conn.execute(json_sql).fetchall()) for _ in range(runs))
    from_column = statistics.median(_timed(lambda: conn.execute(column_sql).fetchall()) for _ in range(runs))
    return from_json * 1000, from_column * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep a data dir")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of raw and compiled SQL")
    parser.add_argument("--engine", choices=("duckdb", "chdb"), default="duckdb",
                        help="chdb: also run the HogQL questions on a server on the embedded ClickHouse")
    args = parser.parse_args()

    base = args.keep or Path(tempfile.mkdtemp(prefix="hedgerow-bench-"))
    data_dir = base / "data"
    try:
        events_file = data_dir / "events.duckdb"
        boot = json.loads(cli("bootstrap", "--data-dir", str(data_dir), "--json").stdout)
        team = boot["project_id"]
        if not events_file.exists():
            seconds = generate(events_file, team, args.events)
            print(f"generated {args.events:,} events in {seconds:.1f} s ({events_file.stat().st_size / 1e9:.2f} GB)")
        raw_copy = base / "raw.duckdb"  # the baseline engine reads a byte-identical copy
        shutil.copy(events_file, raw_copy)
        raw_conn = duckdb.connect(str(raw_copy), config={"threads": 2, "memory_limit": "2GB"})
        try:
            with LiveServer(data_dir) as server:
                key = server.create_key("bench", "query:read")["key"]
                url = f"{server.url}/api/projects/{team}/query/"
                with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=300) as client:
                    figures = compare(raw_conn, client, url, team, args.runs)
            on_chdb = None
            if args.engine == "chdb":
                chdb_data, chdb_dir = base / "chdb-data", base / "events.chdb"
                chdb_boot = json.loads(cli("bootstrap", "--data-dir", str(chdb_data), "--json").stdout)
                assert chdb_boot["project_id"] == team, "both data dirs must hold the same project id"
                if not chdb_dir.exists():
                    print(f"copied the events into chdb in {copy_to_chdb(events_file, chdb_dir, base):.1f} s")
                env = {"HEDGEROW_EVENTS_URL": f"chdb:///{chdb_dir}"}
                with LiveServer(chdb_data, env=env) as server:
                    key = server.create_key("bench", "query:read")["key"]
                    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=300) as client:
                        on_chdb = compare(raw_conn, client, f"{server.url}/api/projects/{team}/query/", team, args.runs)
            engine_only = compiled_vs_raw(raw_conn, team, args.runs, args.explain)
            from_json, from_column = materialised(raw_conn, team, args.runs)
        finally:
            raw_conn.close()
            raw_copy.unlink(missing_ok=True)

        print(f"\n{'question':22s} {'raw SQL':>9s} {'HogQL/HTTP':>11s} {'engine':>8s} {'ratio':>6s}  target (<= 1.5x raw + 10 ms)")
        for name, (raw, http, engine) in figures.items():
            target = 1.5 * raw + 10
            print(f"{name:22s} {raw:7.1f}ms {http:9.1f}ms {engine:6.1f}ms {http / raw:5.2f}x  "
                  f"{'ok' if http <= target else 'MISSED'} ({target:.0f} ms)")
        if on_chdb is not None:
            print(f"\n{'question':22s} {'raw DuckDB':>10s} {'HogQL DuckDB':>13s} {'HogQL chdb':>11s} {'chdb/DuckDB':>12s}")
            for name, (raw, http, _) in figures.items():
                chdb_http = on_chdb[name][1]
                print(f"{name:22s} {raw:8.1f}ms {http:11.1f}ms {chdb_http:9.1f}ms {chdb_http / http:11.2f}x")
        print(f"\n{'on the raw engine':22s} {'raw SQL':>9s} {'compiled':>9s} {'ratio':>6s}")
        for name, (raw, compiled) in engine_only.items():
            print(f"{name:22s} {raw:7.1f}ms {compiled:7.1f}ms {compiled / raw:5.2f}x")
        count = figures["count by event"][1]
        print(f"\ncount by event end to end: {count:.1f} ms (target < 150 ms: {'ok' if count < 150 else 'MISSED'})")
        print(f"property breakdown: JSON {from_json:.1f} ms vs materialised column {from_column:.1f} ms"
              f" ({from_json / from_column:.0f}x faster from a column)")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

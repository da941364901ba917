"""Insight query kinds over HTTP vs hand-written DuckDB SQL computing the same answer.

Generates synthetic events with :func:`query.generate` (30 days before 2024-06-01; default
200k events, size with ``--events``; every tenth user merged into another person through the
overrides, which both sides must resolve to agree), starts ``hedgerow serve`` on them and, in the same run,
times each insight uncached (``refresh: force_blocking``) through ``POST /query/`` and the
hand-written SQL on a byte-identical copy of the events file; checks both give the same
numbers and prints the ratio. Both sides get the same DuckDB buffer pool (``--memory``, the
server through ``--events-memory``): the comparison is of the work, not of the budgets.

    .venv/bin/python bench/insights.py [--events 200000] [--runs 5] [--only stickiness ...]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import duckdb
import httpx
from against_raw import bootstrapped, time_both  # bench/against_raw.py: set-up and timing shared with experiments
from query import generate  # bench/query.py: the shared synthetic event generator

from hedgerow.store.events.schema import PERSON_DISTINCT_ID_OVERRIDES
from hedgerow.testing import LiveServer

RANGE = {"date_from": "2024-05-02", "date_to": "2024-05-31"}
WHERE = "team_id = {team} AND timestamp >= TIMESTAMP '2024-05-02' AND timestamp <= TIMESTAMP '2024-05-31 23:59:59.999999'"
PERSONS = ("(SELECT e.* REPLACE (coalesce(o.person_id, e.person_id) AS person_id) FROM events e LEFT JOIN"
           " (SELECT distinct_id, arg_max(person_id, version) AS person_id FROM person_distinct_id_overrides"
           " WHERE team_id = {team} GROUP BY distinct_id) o ON o.distinct_id = e.distinct_id) AS events")
"""Events with the persons they belong to after merges (what every insight counts)."""


def _trends_rows(body: dict) -> list:
    return sorted((r.get("breakdown_value"), d, v) for r in body["results"] for d, v in zip(r["days"], r["data"]) if v)


def _funnel_counts(body: dict) -> list:
    return [s["count"] for s in body["results"]]


CASES = {
    "trends total by day": (
        {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], "dateRange": RANGE},
        _trends_rows,
        f"SELECT NULL, strftime(timestamp, '%Y-%m-%d'), count(*) FROM events WHERE {WHERE} AND event = '$pageview' GROUP BY 2",
    ),
    "trends dau by $browser": (
        {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
         "dateRange": RANGE, "breakdownFilter": {"breakdown": "$browser"}},
        _trends_rows,
        # parses the JSON on purpose (the honest baseline): the server reads the "mat_$browser" column
        "SELECT json_extract_string(properties, '$.\"$browser\"'), strftime(timestamp, '%Y-%m-%d'),"
        f" count(DISTINCT person_id) FROM {PERSONS} WHERE {WHERE} AND event = '$pageview' GROUP BY 1, 2",
    ),
    "funnel pageview -> purchase": (
        {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"},
                                            {"kind": "EventsNode", "event": "purchase"}], "dateRange": RANGE},
        _funnel_counts,
        f"WITH e AS (SELECT person_id, event, timestamp AS ts FROM {PERSONS} WHERE {WHERE}"
        " AND event IN ('$pageview', 'purchase')),"
        " p AS (SELECT person_id, ts FROM e WHERE event = '$pageview'),"
        " s AS (SELECT person_id, ts FROM e WHERE event = 'purchase'),"
        " converted AS (SELECT DISTINCT s.person_id FROM s ASOF JOIN p ON s.person_id = p.person_id AND s.ts >= p.ts"
        " WHERE s.ts - p.ts <= INTERVAL 14 DAY)"
        " SELECT (SELECT count(DISTINCT person_id) FROM p), (SELECT count(*) FROM converted)",
    ),
    "stickiness": (
        {"kind": "StickinessQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], "dateRange": RANGE},
        lambda body: [[k, v] for k, v in zip(body["results"][0]["days"], body["results"][0]["data"]) if v],
        f"SELECT active, count(*) FROM (SELECT person_id, count(DISTINCT timestamp::DATE) AS active FROM {PERSONS}"
        f" WHERE {WHERE} AND event = '$pageview' GROUP BY person_id) GROUP BY active ORDER BY active",
    ),
    "retention (recurring, 7 days)": (
        {"kind": "RetentionQuery", "dateRange": {"date_from": "2024-05-25", "date_to": "2024-05-31"},
         "retentionFilter": {"period": "Day", "totalIntervals": 7}},
        lambda body: sorted([c, k, v["count"]] for c, row in enumerate(body["results"])
                            for k, v in enumerate(row["values"]) if v["count"]),
        "WITH t AS (SELECT DISTINCT person_id, timestamp::DATE AS d FROM " + PERSONS + " WHERE team_id = {team}"
        " AND event = '$pageview' AND timestamp >= TIMESTAMP '2024-05-25' AND timestamp < TIMESTAMP '2024-06-01')"
        " SELECT (a.d - DATE '2024-05-25') AS c, (b.d - a.d) AS k, count(DISTINCT a.person_id) FROM t a"
        " JOIN t b ON a.person_id = b.person_id AND b.d >= a.d AND b.d - a.d < 7 GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    "lifecycle": (
        {"kind": "LifecycleQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], "dateRange": RANGE},
        lambda body: sorted([r["status"], d, v] for r in body["results"] for d, v in zip(r["days"], r["data"]) if v),
        # personless events have no lifecycle (PostHog's runner filters them): the filter is part of the work
        "WITH a AS (SELECT person_id, timestamp::DATE AS d, min(person_created_at::DATE) AS c FROM " + PERSONS +
        " WHERE team_id = {team} AND event = '$pageview' AND (NOT contains(properties, '$process_person_profile')"
        " OR json_extract_string(properties, '$.\"$process_person_profile\"') IS DISTINCT FROM 'false')"
        " AND timestamp >= TIMESTAMP '2024-05-01'"
        " AND timestamp <= TIMESTAMP '2024-05-31 23:59:59.999999' GROUP BY 1, 2),"
        " s AS (SELECT *, lag(d) OVER w AS prev, lead(d) OVER w AS next FROM a"
        " WINDOW w AS (PARTITION BY person_id ORDER BY d)),"
        " marks AS (SELECT d, CASE WHEN d = c THEN 'new' WHEN prev = d - 1 THEN 'returning'"
        " ELSE 'resurrecting' END AS status, 1.0 AS v FROM s"
        " UNION ALL SELECT d + 1, 'dormant', -1.0 FROM s WHERE next IS NULL OR next > d + 1)"
        " SELECT status, strftime(d, '%Y-%m-%d'), sum(v) FROM marks WHERE d >= DATE '2024-05-02'"
        " AND d <= DATE '2024-05-31' GROUP BY 1, 2",
    ),
    "paths (pageviews)": (
        {"kind": "PathsQuery", "dateRange": RANGE, "pathsFilter": {"includeEventTypes": ["$pageview"]}},
        lambda body: sorted([e["source"], e["target"], e["value"]] for e in body["results"]),
        "WITH e AS (SELECT person_id, timestamp AS ts, regexp_replace(json_extract_string(properties,"
        " '$.\"$current_url\"'), '/$', '') AS item FROM " + PERSONS + " WHERE " + WHERE + " AND event = '$pageview'),"
        " g AS (SELECT *, sum(CASE WHEN prev IS NULL OR ts - prev >= INTERVAL 30 MINUTE THEN 1 ELSE 0 END)"
        " OVER (PARTITION BY person_id ORDER BY ts) AS session FROM (SELECT *, lag(ts) OVER"
        " (PARTITION BY person_id ORDER BY ts) AS prev FROM e)),"
        " d AS (SELECT * FROM (SELECT *, lag(item) OVER (PARTITION BY person_id, session ORDER BY ts) AS prev_item"
        " FROM g) WHERE prev_item IS NULL OR prev_item != item),"
        " p AS (SELECT item, row_number() OVER w AS pos, lead(item) OVER w AS next_item FROM d"
        " WINDOW w AS (PARTITION BY person_id, session ORDER BY ts))"
        " SELECT pos || '_' || item, (pos + 1) || '_' || next_item, count(*) AS n FROM p"
        " WHERE pos < 5 AND next_item IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 50",
    ),
}


def _merge_persons(events_file: Path, team: int) -> int:
    """Merge every tenth user into the one eight before (same browser, so daily actives by
    browser change too), as overrides of their distinct ids (the generator's person of user
    ``u`` is ``md5(u)``): persons only resolve right through them."""
    conn = duckdb.connect(str(events_file))
    try:
        conn.execute(
            f"INSERT INTO {PERSON_DISTINCT_ID_OVERRIDES.folded} (team_id, distinct_id, person_id, version)"
            " SELECT DISTINCT team_id, distinct_id, md5((substr(distinct_id, 6)::BIGINT - 8)::VARCHAR)::UUID, 1"
            " FROM events WHERE team_id = ? AND substr(distinct_id, 6)::BIGINT % 10 = 9", [team])
        return conn.execute("SELECT count(*) FROM person_distinct_id_overrides").fetchone()[0]
    finally:
        conn.close()


def _reachable(edges: list) -> list:
    """Keep the edges reachable from a first step (what PathsQuery returns)."""
    reached: set = set()
    kept = []
    for source, target, value in sorted(edges, key=lambda e: int(e[0].split("_", 1)[0])):
        if source.startswith("1_") or source in reached:
            reached.add(target)
            kept.append([source, target, value])
    return sorted(kept)


def _raw_answer(name: str, rows: list) -> list:
    if name.startswith("funnel"):
        return list(rows[0])
    if name == "stickiness":
        return [list(r) for r in rows]
    if name.startswith("retention"):
        return sorted(list(r) for r in rows)
    if name == "lifecycle":
        return sorted([s, d, float(v)] for s, d, v in rows if v)
    if name.startswith("paths"):
        return _reachable([list(r) for r in rows])
    return sorted((b, d, v) for b, d, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory", default="2GB",
                        help="DuckDB's buffer pool for both sides: the raw connection and the server's --events-memory")
    parser.add_argument("--only", action="append", metavar="KIND",
                        help="run only the cases whose name starts with KIND (repeatable)")
    args = parser.parse_args()
    cases = {name: case for name, case in CASES.items()
             if not args.only or any(name.startswith(kind) for kind in args.only)}

    with bootstrapped("insights") as project:
        team = project.team
        seconds = generate(project.events_file, team, args.events, users=args.users)
        merged = _merge_persons(project.events_file, team)
        print(f"generated {args.events:,} events in {seconds:.1f} s ({merged:,} distinct ids merged into other persons)")
        raw = project.raw_copy(args.memory)
        figures = {}
        with LiveServer(project.data_dir, env={"HEDGEROW_EVENTS_MEMORY": args.memory}) as server:
            key = server.create_key("bench", "query:read")["key"]
            url = f"{server.url}/api/projects/{team}/query/"
            with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
                for name, (query, answer, sql) in cases.items():
                    sql = sql.replace("{team}", str(team))
                    timed = time_both(raw, sql, client, url, query, args.runs)
                    timings = [response.json()["timings"] for response in timed.responses]
                    compile_times = [sum(t["t"] for t in run if t["k"] == "./hogql") for run in timings]
                    engine_times = [sum(t["t"] for t in run if t["k"] == "./execute") for run in timings]
                    same = answer(timed.responses[-1].json()) == _raw_answer(name, timed.raw_rows)
                    figures[name] = (statistics.median(timed.raw_times) * 1000,
                                     statistics.median(timed.http_times) * 1000, same,
                                     statistics.median(compile_times) * 1000, statistics.median(engine_times) * 1000)
        raw.close()
        print(f"\n{'insight':30s} {'raw SQL':>9s} {'HTTP':>9s} {'ratio':>6s}  same answer"
              f"   (server: compile, engine incl. row conversion)")
        for name, (raw_ms, http_ms, same, compile_ms, engine_ms) in figures.items():
            print(f"{name:30s} {raw_ms:7.1f}ms {http_ms:7.1f}ms {http_ms / raw_ms:5.2f}x  {'yes' if same else 'NO '}"
                  f"           {compile_ms:6.1f}ms {engine_ms:7.1f}ms")


if __name__ == "__main__":
    main()

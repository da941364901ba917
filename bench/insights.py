"""Insight query kinds over HTTP vs hand-written DuckDB SQL computing the same answer.

Generates synthetic events with :func:`query.generate` (30 days before 2024-06-01; default
200k events, size with ``--events``), starts ``hedgerow serve`` on them and, in the same run,
times each insight uncached (``refresh: force_blocking``) through ``POST /query/`` and the
hand-written SQL on a byte-identical copy of the events file; checks both give the same
numbers and prints the ratio.

    .venv/bin/python bench/insights.py [--events 200000] [--runs 5]
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
from query import generate  # bench/query.py: the shared synthetic event generator

from hedgerow.testing import LiveServer, cli

RANGE = {"date_from": "2024-05-02", "date_to": "2024-05-31"}
WHERE = "team_id = {team} AND timestamp >= TIMESTAMP '2024-05-02' AND timestamp <= TIMESTAMP '2024-05-31 23:59:59.999999'"


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
        "SELECT json_extract_string(properties, '$.\"$browser\"'), strftime(timestamp, '%Y-%m-%d'),"
        f" count(DISTINCT person_id) FROM events WHERE {WHERE} AND event = '$pageview' GROUP BY 1, 2",
    ),
    "funnel pageview -> purchase": (
        {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"},
                                            {"kind": "EventsNode", "event": "purchase"}], "dateRange": RANGE},
        _funnel_counts,
        f"WITH p AS (SELECT person_id, timestamp AS ts FROM events WHERE {WHERE} AND event = '$pageview'),"
        f" s AS (SELECT person_id, timestamp AS ts FROM events WHERE {WHERE} AND event = 'purchase'),"
        " converted AS (SELECT DISTINCT s.person_id FROM s ASOF JOIN p ON s.person_id = p.person_id AND s.ts >= p.ts"
        " WHERE s.ts - p.ts <= INTERVAL 14 DAY)"
        " SELECT (SELECT count(DISTINCT person_id) FROM p), (SELECT count(*) FROM converted)",
    ),
}


def _raw_answer(name: str, rows: list) -> list:
    if name.startswith("funnel"):
        return list(rows[0])
    return sorted((b, d, v) for b, d, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="hedgerow-bench-insights-"))
    data_dir = base / "data"
    try:
        boot = json.loads(cli("bootstrap", "--data-dir", str(data_dir), "--json").stdout)
        team = boot["project_id"]
        events_file = data_dir / "events.duckdb"
        seconds = generate(events_file, team, args.events, users=args.users)
        print(f"generated {args.events:,} events in {seconds:.1f} s")
        raw_copy = base / "raw.duckdb"
        shutil.copy(events_file, raw_copy)
        raw = duckdb.connect(str(raw_copy), config={"threads": 2, "memory_limit": "2GB"})
        figures = {}
        with LiveServer(data_dir) as server:
            key = server.create_key("bench", "query:read")["key"]
            url = f"{server.url}/api/projects/{team}/query/"
            with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
                for name, (query, answer, sql) in CASES.items():
                    sql = sql.replace("{team}", str(team))
                    raw_times, http_times = [], []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        raw_rows = raw.execute(sql).fetchall()
                        raw_times.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        response = client.post(url, json={"query": query, "refresh": "force_blocking"})
                        http_times.append(time.perf_counter() - started)
                        response.raise_for_status()
                    same = answer(response.json()) == _raw_answer(name, raw_rows)
                    figures[name] = (statistics.median(raw_times) * 1000, statistics.median(http_times) * 1000, same)
        raw.close()
        print(f"\n{'insight':30s} {'raw SQL':>9s} {'HTTP':>9s} {'ratio':>6s}  same answer")
        for name, (raw_ms, http_ms, same) in figures.items():
            print(f"{name:30s} {raw_ms:7.1f}ms {http_ms:7.1f}ms {http_ms / raw_ms:5.2f}x  {'yes' if same else 'NO'}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

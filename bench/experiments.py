"""Experiment results over HTTP vs hand-written DuckDB SQL computing the same counts.

Generates synthetic events with :func:`query.generate` (default 200k events, size with
``--events``), adds ``$feature_flag_called`` exposures of flag ``bench-exp`` (60% of users,
split control/test, 2% of them seeing both variants), starts ``hedgerow serve`` on them, creates
the experiment over the API and, in the same run, times each metric uncached
(``refresh: force_blocking``) through ``POST /query/`` against the hand-written SQL on a
byte-identical copy of the events file; checks both give the same per-variant counts and prints
the ratio.

    .venv/bin/python bench/experiments.py [--events 200000] [--users 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import duckdb
import httpx
from against_raw import bootstrapped, time_both  # bench/against_raw.py: set-up and timing shared with insights
from query import generate  # bench/query.py: the shared synthetic event generator

from hedgerow.store.events.schema import HOT_COLUMN_LIST, HOT_VALUES, hot_parse
from hedgerow.testing import LiveServer

FLAG = "bench-exp"
START, END = "2024-05-02T00:00:00Z", "2024-05-31T00:00:00Z"
S, E = "TIMESTAMP '2024-05-02'", "TIMESTAMP '2024-05-31'"

EXPOSURES = (
    "WITH x AS (SELECT person_id, timestamp AS ts, json_extract_string(properties, '$.\"$feature_flag_response\"') AS v"
    " FROM events WHERE team_id = {team} AND event = '$feature_flag_called'"
    f" AND json_extract_string(properties, '$.\"$feature_flag\"') = '{FLAG}' AND timestamp >= {S} AND timestamp <= {E}),"
    " exposures AS (SELECT person_id, CASE WHEN count(DISTINCT v) > 1 THEN '$multiple' ELSE any_value(v) END AS variant,"
    " min(ts) AS first FROM x WHERE v IN ('control', 'test') GROUP BY person_id)"
)
CASES = {
    "mean (purchases per user)": (
        {"metric_type": "mean", "source": {"kind": "EventsNode", "event": "purchase"}},
        lambda body: sorted([v["key"], v["number_of_samples"], v["sum"], v["sum_squares"]]
                            for v in [body["baseline"], *body["variant_results"]]),
        EXPOSURES + ", m AS (SELECT person_id, timestamp AS ts FROM events WHERE team_id = {team}"
        f" AND event = 'purchase' AND timestamp >= {S} AND timestamp < {E}),"
        " per AS (SELECT e.person_id, e.variant, count(m.ts) AS c FROM exposures e LEFT JOIN m"
        " ON m.person_id = e.person_id AND m.ts >= e.first GROUP BY e.person_id, e.variant)"
        " SELECT variant, count(*), sum(c), sum(c * c) FROM per WHERE variant != '$multiple' GROUP BY variant ORDER BY 1",
    ),
    "funnel (pageview -> purchase)": (
        {"metric_type": "funnel", "series": [{"kind": "EventsNode", "event": "$pageview"},
                                             {"kind": "EventsNode", "event": "purchase"}]},
        lambda body: sorted([v["key"], v["number_of_samples"], *v["step_counts"]]
                            for v in [body["baseline"], *body["variant_results"]]),
        EXPOSURES + ", pv AS (SELECT e.person_id, min(p.timestamp) AS first_pv FROM exposures e JOIN events p"
        " ON p.person_id = e.person_id AND p.team_id = {team} AND p.event = '$pageview'"
        f" AND p.timestamp >= e.first AND p.timestamp <= {E} GROUP BY e.person_id),"
        " conv AS (SELECT DISTINCT pv.person_id FROM pv JOIN events q ON q.person_id = pv.person_id"
        f" AND q.team_id = {{team}} AND q.event = 'purchase' AND q.timestamp >= pv.first_pv AND q.timestamp <= {E})"
        " SELECT e.variant, count(*), count(pv.person_id), count(conv.person_id) FROM exposures e"
        " LEFT JOIN pv ON pv.person_id = e.person_id LEFT JOIN conv ON conv.person_id = e.person_id"
        " WHERE e.variant != '$multiple' GROUP BY e.variant ORDER BY 1",
    ),
}


def add_exposures(path: Path, team: int, users: int) -> None:
    """``$feature_flag_called`` for 60% of the generator's users (its distinct and person ids)."""
    conn = duckdb.connect(str(path))
    exposed = users * 6 // 10
    both = max(1, exposed // 50)
    conn.execute(
        f"""
        INSERT INTO events (team_id, uuid, event, distinct_id, properties, timestamp, created_at,
                            person_id, person_properties, person_created_at, "$session_id", {HOT_COLUMN_LIST})
        WITH exposures AS (
            SELECT {team}, uuid(), '$feature_flag_called', 'user_' || u,
                   json_object('$feature_flag', '{FLAG}', '$feature_flag_response', v)::VARCHAR AS properties,
                   ts, ts, md5(u::VARCHAR)::UUID, '{{}}', TIMESTAMP '2024-01-01', NULL
            FROM (SELECT u::BIGINT AS u, CASE WHEN hash(u * 13) % 2 = 0 THEN 'control' ELSE 'test' END AS v,
                         TIMESTAMP '2024-05-02' + to_microseconds((random() * 25 * 86400 * 1e6)::BIGINT) AS ts
                  FROM range({exposed}) t(u)
                  UNION ALL
                  SELECT u::BIGINT, CASE WHEN hash(u * 13) % 2 = 0 THEN 'test' ELSE 'control' END,
                         TIMESTAMP '2024-05-28' + to_microseconds((random() * 86400 * 1e6)::BIGINT)
                  FROM range({both}) t(u))
        )
        SELECT * EXCLUDE (_hot), {HOT_VALUES} FROM (SELECT *, {hot_parse("properties")} FROM exposures)
        """
    )
    conn.execute("CHECKPOINT")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with bootstrapped("experiments") as project:
        team = project.team
        seconds = generate(project.events_file, team, args.events, users=args.users)
        add_exposures(project.events_file, team, args.users)
        print(f"generated {args.events:,} events and exposures of {args.users * 6 // 10:,} users in {seconds:.1f} s")
        raw = project.raw_copy("2GB")
        figures = {}
        with LiveServer(project.data_dir) as server:
            headers = {"Authorization": f"Bearer {project.boot['personal_api_key']}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
                made = client.post(f"/api/projects/{team}/experiments/", json={
                    "name": "Bench", "feature_flag_key": FLAG, "start_date": START, "end_date": END})
                made.raise_for_status()
                for name, (metric, answer, sql) in CASES.items():
                    sql = sql.replace("{team}", str(team))
                    query = {"kind": "ExperimentQuery", "experiment_id": made.json()["id"],
                             "metric": {"kind": "ExperimentMetric", **metric}}  # fmt: skip
                    timed = time_both(raw, sql, client, f"/api/projects/{team}/query/", query, args.runs)
                    body, raw_rows = timed.responses[-1].json(), timed.raw_rows
                    same = answer(body) == sorted([str(r[0]), *(int(x) for x in r[1:])] for r in raw_rows)
                    if not same:
                        print(name, "differs:", answer(body), raw_rows)
                    figures[name] = (statistics.median(timed.raw_times) * 1000,
                                     statistics.median(timed.http_times) * 1000, same)  # fmt: skip
        raw.close()
        print(f"\n{'metric':30s} {'raw SQL':>9s} {'HTTP':>9s} {'ratio':>6s}  same counts")
        for name, (raw_ms, http_ms, same) in figures.items():
            print(f"{name:30s} {raw_ms:7.1f}ms {http_ms:7.1f}ms {http_ms / raw_ms:5.2f}x  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()

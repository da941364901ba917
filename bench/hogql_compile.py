"""Print HogQL compile time per query (median of repeated runs)."""

from __future__ import annotations

import statistics
import time

from hedgerow.hogql import CompileContext, compile_hogql

QUERIES = {
    "count by event": "select event, count() from events group by event order by count() desc",
    "property filter": "select properties.$browser, count() from events where properties.$browser = 'Chrome' and timestamp > '2024-01-01' group by 1",
    "person join": "select person.properties.email, person_id, count() from events group by 1, 2",
    "sessions": "select session.$session_duration, session.$entry_current_url from events limit 10",
    "trend": "select toStartOfDay(timestamp) as day, uniq(distinct_id) from events where event = '$pageview' and timestamp >= now() - interval 7 day group by day order by day",
}


def main() -> None:
    ctx = CompileContext(team_id=1, timezone="Europe/Paris")
    for name, query in QUERIES.items():
        compile_hogql(query, ctx)
        samples = []
        for _ in range(50):
            start = time.perf_counter()
            compile_hogql(query, ctx)
            samples.append(time.perf_counter() - start)
        print(f"{name:16s} median {statistics.median(samples) * 1000:6.2f} ms  max {max(samples) * 1000:6.2f} ms")


if __name__ == "__main__":
    main()

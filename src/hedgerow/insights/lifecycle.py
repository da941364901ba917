"""``LifecycleQuery``: per interval, the actors who were new, returning or resurrecting, and
(negative) those who went dormant.

For each actor the engine returns their distinct active intervals from one interval before the
range, and the interval of their person's ``created_at``. An active interval is *new* when it is
the creation interval, else *returning* when the actor was active in the interval before, else
*resurrecting*; an active interval not followed by activity in the next one makes the actor
*dormant* in that next interval. Personless events (``$process_person_profile: false``) have no
lifecycle and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hedgerow.insights import date_range, series as series_
from hedgerow.insights.context import Runner, resolve_range, run_rows, timezone
from hedgerow.insights.models import LifecycleQuery
from hedgerow.insights.templates import and_, expr, select
from hedgerow.insights.trends import BUCKETS, bucket_key

STATUSES = ("new", "returning", "resurrecting", "dormant")
WITH_PERSON = "ifNull(toString(properties.$process_person_profile), '') != 'false'"


def run(ctx: Runner, query: LifecycleQuery) -> dict[str, Any]:
    """Compute a LifecycleQuery in PostHog's response shape."""
    tz = timezone(ctx)
    interval = query.interval or "day"
    node = query.series[0]
    rng = resolve_range(ctx, query.dateRange, interval)
    buckets = rng.buckets
    keys = [rng.key(b) for b in buckets]
    before = date_range.step(buckets[0], interval, -1)
    created = BUCKETS[interval].replace("timestamp", "person.created_at")
    tree = select(
        "SELECT person_id, {bucket} AS active, min({created}) FROM events"
        " WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition}"
        " GROUP BY person_id, active",
        bucket=expr(BUCKETS[interval]),
        created=expr(created),
        date_from=date_range.to_utc(before),
        date_to=date_range.to_utc(rng.date_to),
        condition=and_(series_.condition(node, query.properties, tz), expr(WITH_PERSON)),
    )
    rows, hogql = run_rows(ctx, tree)
    every = [rng.key(before), *keys, rng.key(date_range.step(buckets[-1], interval))]
    position = {key: i for i, key in enumerate(every)}
    spans_of: dict[Any, set[int]] = defaultdict(set)
    created_of: dict[Any, str] = {}
    for actor, active, created_at in rows:
        spans_of[actor].add(position[bucket_key(active)])
        if created_at is not None:
            key = bucket_key(created_at)
            created_of[actor] = min(key, created_of.get(actor, key))
    counts = {status: [0.0] * len(keys) for status in STATUSES}
    for actor, spans in spans_of.items():
        created_key = created_of.get(actor)
        for i in spans:
            if 1 <= i <= len(keys):
                if created_key == every[i]:
                    status = "new"
                elif i - 1 in spans:
                    status = "returning"
                else:
                    status = "resurrecting"
                counts[status][i - 1] += 1
            if i + 1 not in spans and 1 <= i + 1 <= len(keys):
                counts["dormant"][i] -= 1
    label = series_.label(node)
    results = [
        {
            "label": f"{label} - {status}",
            "status": status,
            "data": counts[status],
            "count": sum(counts[status]),
            "labels": [rng.label(b) for b in buckets],
            "days": keys,
            "action": {"id": node.event, "name": label, "type": "events", "order": 0, "math": "total"},
        }
        for status in STATUSES
    ]
    return {
        "results": results,
        "hogql": hogql,
        "resolved_date_range": {"date_from": rng.date_from_iso, "date_to": rng.date_to_iso},
        "error": None,
        "timings": ctx.timings,
    }

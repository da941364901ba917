"""``LifecycleQuery``: per interval, the actors who were new, returning or resurrecting, and
(negative) those who went dormant.

The engine takes each actor's distinct active intervals from one interval before the range, with
the interval of their person's (earliest) ``created_at``, and classifies them with window
functions over the actor's intervals in order. An active interval is *new* when it is the
creation interval and the actor's first in the window, else *returning* when the actor was
active in the interval before, else *resurrecting*; an active interval not followed by activity
in the next one makes the actor *dormant* in that next interval. Personless events (``$process_person_profile: false``) have no
lifecycle and are left out.

With ``aggregation_group_type_index`` the actors are the groups of that type (events without
one left out), and a group is new in the interval of its own ``created_at``, as PostHog does
since it stopped using the person's there.
"""

from __future__ import annotations

from typing import Any

from hedgerow.errors import ValidationError
from hedgerow.hogql.property_filters import field
from hedgerow.insights import date_range, series as series_
from hedgerow.insights.actor_source import ActorPoint, ActorSource
from hedgerow.insights.context import PER_PERSON_LIMITS, Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.models import LifecycleQuery
from hedgerow.insights.templates import and_, expr, select
from hedgerow.insights.trends import BUCKETS, bucket_key

STATUSES = ("new", "returning", "resurrecting", "dormant")
SHIFTS = {"hour": "addHours(active, {by})", "day": "addDays(active, {by})", "week": "addDays(active, 7 * {by})",
          "month": "addMonths(active, {by})"}
"""The bucket one interval before (``by`` -1) or after (+1) ``active``."""
WITH_PERSON = ("position(toString(properties), '$process_person_profile') = 0"
               " OR ifNull(toString(properties.$process_person_profile), '') != 'false'")
"""Events with a person: the cheap text test first spares parsing every event's JSON."""


LIFECYCLE = (
    "WITH spans AS ("
    " SELECT person_id, active, min(created) OVER actor AS first_created, min(active) OVER actor AS first_active,"
    "  lagInFrame(active) OVER actor AS previous, leadInFrame(active) OVER actor AS following"
    " FROM (SELECT {actor} AS person_id, {bucket} AS active, min({created}) AS created FROM events"
    "  WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition} GROUP BY person_id, active)"
    " WINDOW actor AS (PARTITION BY person_id ORDER BY active ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))"
    " {outer} FROM ("
    "  SELECT person_id, active AS bucket, multiIf(active = first_created AND active = first_active, 'new', previous = {back}, 'returning',"
    "   'resurrecting') AS status, 1 AS n FROM spans"
    "  UNION ALL"
    "  SELECT person_id, {forward} AS bucket, 'dormant' AS status, -1 AS n FROM spans WHERE following != {forward})"
)
"""Each actor's status in each interval (``{outer}`` aggregates or lists them); ``person_id``
holds the actor, a person or a group key."""
COUNTS = "SELECT bucket, status, sum(n)"
COUNTS_TAIL = " GROUP BY bucket, status"
PERSONS = "SELECT person_id, bucket"
PERSONS_TAIL = " WHERE status = {status}"


def _holes(ctx: Runner, query: LifecycleQuery, rng: Any) -> dict[str, Any]:
    interval = rng.interval
    group = query.aggregation_group_type_index
    actor = field("person_id") if group is None else field(f"$group_{group}")
    created = BUCKETS[interval].replace("timestamp", "person.created_at" if group is None else f"group_{group}.created_at")
    return dict(
        actor=actor,
        bucket=expr(BUCKETS[interval]),
        created=expr(created),
        back=expr(SHIFTS[interval], by=-1),
        forward=expr(SHIFTS[interval], by=1),
        date_from=date_range.to_utc(date_range.step(rng.buckets[0], interval, -1)),
        date_to=date_range.to_utc(rng.date_to),
        condition=and_(series_.condition(query.series[0], global_properties(ctx, query), timezone(ctx)),
                       expr(WITH_PERSON), expr("{actor} != ''", actor=actor) if group is not None else None),
    )


def _key(bucket: Any, interval: str) -> str:
    text = str(bucket)
    return bucket_key(text) if interval == "hour" else text[:10]


def actors(ctx: Runner, query: LifecycleQuery, point: ActorPoint) -> ActorSource:
    """The actors with lifecycle ``point.status`` in bucket ``point.day``."""
    if point.status is None or point.day is None:
        raise ValidationError("A lifecycle data point needs status and day", attr="status")
    interval = query.interval or "day"
    rng = resolve_range(ctx, query.dateRange, interval)
    wanted = str(point.day)[:19].replace("T", " ") if interval == "hour" else str(point.day)[:10]
    if wanted not in {rng.key(b) for b in rng.buckets}:
        raise ValidationError(f"The day '{point.day}' is not a bucket of the insight's date range", attr="day")
    tree = select(LIFECYCLE.replace("{outer}", PERSONS) + PERSONS_TAIL, status=point.status,
                  **_holes(ctx, query, rng))
    rows, _ = run_rows(ctx, tree, PER_PERSON_LIMITS)
    return ActorSource(ids=[str(person) for person, bucket in rows if _key(bucket, interval) == wanted],
                       group_type_index=query.aggregation_group_type_index)


def run(ctx: Runner, query: LifecycleQuery) -> dict[str, Any]:
    """Compute a LifecycleQuery in PostHog's response shape."""
    tz = timezone(ctx)
    interval = query.interval or "day"
    node = query.series[0]
    rng = resolve_range(ctx, query.dateRange, interval)
    buckets = rng.buckets
    keys = [rng.key(b) for b in buckets]
    tree = select(LIFECYCLE.replace("{outer}", COUNTS) + COUNTS_TAIL, **_holes(ctx, query, rng))
    rows, hogql = run_rows(ctx, tree)
    position = {key: i for i, key in enumerate(keys)}
    counts = {status: [0.0] * len(keys) for status in STATUSES}
    for bucket, status, n in rows:
        index = position.get(_key(bucket, interval))
        if index is not None:
            counts[status][index] += n
    label = series_.label(node)
    results = [
        {
            "label": f"{label} - {status}",
            "status": status,
            "data": counts[status],
            "count": sum(counts[status]),
            "labels": [rng.label(b) for b in buckets],
            "days": keys,
            "action": {"id": series_.node_id(node), "name": label, "type": series_.node_type(node), "order": 0,
                       "math": "total"},
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

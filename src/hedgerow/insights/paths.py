"""``PathsQuery``: the most common step-to-step moves through a product.

Computed in the engine with window functions over each person's events in the range: the item
is the page (``$current_url``, one trailing ``/`` removed) for pageviews, the screen for
``$screen``, else the event name; items in ``excludeEvents`` are left out; a person's events
split into sessions at gaps of 30 minutes or more; repeats of the same item in a row collapse;
each session is cut to its ``startPoint`` (from its first occurrence) or ``endPoint`` (up to its
first occurrence, keeping the last ``stepLimit`` items), to both (see :data:`KEEP`), else to its
first ``stepLimit`` items;
and every move from position i to i+1 becomes an edge ``"<i>_<item>" -> "<i+1>_<item>"`` weighted
by the sessions taking it, with the mean time between the two events in milliseconds. Here:
edges are filtered by weight, the heaviest ``edgeLimit`` kept, and only those reachable from a
first step returned.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.insights import date_range, series as series_
from hedgerow.insights.actor_source import ActorPoint, ActorSource
from hedgerow.insights.context import Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.models import PathsQuery
from hedgerow.insights.templates import and_, expr, select

SESSION_GAP_US = 30 * 60 * 1_000_000
ITEM = (
    "if(event = '$pageview', if(length(url) > 1 AND endsWith(url, '/'), substring(url, 1, length(url) - 1), url),"
    " if(event = '$screen', ifNull(toString(properties.$screen_name), ''), event))"
)
"""The node an event stands for, from ``url`` (its ``$current_url``, read once per event)."""
URL = "if(event = '$pageview', ifNull(toString(properties.$current_url), ''), '')"
EVENT_ITEM = ITEM.replace("url", f"({URL})")
"""The same node straight from the event's columns (for filters on events)."""
TYPE_CONDITIONS = {
    "$pageview": "event = '$pageview'",
    "$screen": "event = '$screen'",
    "custom_event": "NOT startsWith(event, '$')",
}
NOWHERE = 1_000_000
"""The position of a start/end point a session does not contain."""
KEEP = {
    "start": ("at < {nowhere} AND pos >= at AND pos < at + {limit}", "pos - at + 1", "item"),
    "end": ("at < {nowhere} AND pos <= at AND pos > at - {limit}", "pos - greatest(at - {limit}, 0)", "item"),
    # from the start point to the first end point after it; longer than the limit: its first and
    # last halves around a "..." node (which takes the time of the item it stands in for)
    "both": ("at < {nowhere} AND end_at < {nowhere} AND pos >= at AND pos <= end_at AND (end_at - at < {limit}"
             " OR pos - at < {half} + 1 OR pos - at >= end_at - at + 1 - {half})",
             "if(end_at - at < {limit} OR pos - at < {half} + 1, pos - at + 1, pos - end_at + 2 * {half} + 1)",
             "if(end_at - at >= {limit} AND pos - at = {half}, '...', item)"),
}
"""How a session is cut around its points: (which positions stay, their new position, their item)."""
END_AT = "min(if(item = {end_point} AND pos >= at, pos, {nowhere})) OVER (PARTITION BY person_id, session)"
"""Where the end point first follows the start point (computed only when both are given)."""

DEDUPED = """
SELECT person_id, session, ts, item, seq,
       lagInFrame(item) OVER (PARTITION BY person_id, session ORDER BY seq) AS previous_item,
       row_number() OVER (PARTITION BY person_id, session ORDER BY seq) AS seen
FROM (
  SELECT person_id, ts, item, seq,
         sum(if(dateDiff('microsecond', previous_ts, ts) >= {gap}, 1, 0)) OVER (
           PARTITION BY person_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
         ) AS session
  FROM (
    SELECT person_id, ts, item,
           lagInFrame(ts) OVER timeline AS previous_ts,
           row_number() OVER timeline AS seq
    FROM (
      SELECT person_id, ts, {item} AS item
      FROM (
        SELECT person_id, timestamp AS ts, event, properties, {url} AS url
        FROM events
        WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition}
      )
    )
    WINDOW timeline AS (PARTITION BY person_id ORDER BY ts, item ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  )
)
"""
"""Each person's items in order (``seq``: by time, then item, the one sort on text), split into
sessions, with what is needed to drop repeats in a row."""
FROM_START = """
SELECT person_id, concat(toString(step), '_', item) AS source, concat(toString(step + 1), '_', next_item) AS target,
       step, if(has_next = 1 AND step < {limit}, step + 1, 0) AS next_step, ts, next_ts
FROM (
  SELECT person_id, item, ts,
         row_number() OVER steps AS step,
         leadInFrame(item) OVER steps AS next_item,
         leadInFrame(ts) OVER steps AS next_ts,
         leadInFrame(1) OVER steps AS has_next
  FROM ({deduped})
  WHERE seen = 1 OR previous_item != item
  WINDOW steps AS (PARTITION BY person_id, session ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
WHERE step <= {limit}
"""
"""Without a start or end point: each session's first ``limit`` positions, numbered and linked
in one pass (window functions see the rows left once repeats are dropped)."""
AROUND_POINTS = """
SELECT person_id, concat(toString(step), '_', item) AS source, concat(toString(step + 1), '_', next_item) AS target,
       step, next_step, ts, next_ts
FROM (
  SELECT person_id, item, ts, step,
         leadInFrame(item) OVER steps AS next_item,
         leadInFrame(ts) OVER steps AS next_ts,
         leadInFrame(step) OVER steps AS next_step
  FROM (
   SELECT person_id, session, ts, {kept_item} AS item, {step} AS step
   FROM (
    SELECT person_id, session, ts, item, pos, at,
           {end_at} AS end_at
    FROM (
    SELECT person_id, session, ts, item, pos,
           min(if(item = {point}, pos, {nowhere})) OVER (PARTITION BY person_id, session) AS at
    FROM (
      SELECT person_id, session, ts, item,
             row_number() OVER (PARTITION BY person_id, session ORDER BY seq) AS pos
      FROM ({deduped})
      WHERE seen = 1 OR previous_item != item
    )
    )
   )
   WHERE {keep}
  )
  WINDOW steps AS (PARTITION BY person_id, session ORDER BY step ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
"""
"""With a start and/or end point: each session cut around them (see :data:`KEEP`)."""
EDGES = """
SELECT source, target, count() AS weight, avg(dateDiff('microsecond', ts, next_ts)) / 1000 AS average_conversion_time
FROM ({moves}) WHERE next_step > 0 GROUP BY source, target
"""
ACTORS = "SELECT DISTINCT person_id AS actor_id FROM ({moves}) WHERE {condition}"
"""The persons of one path node or edge."""


def _moves(ctx: Runner, query: PathsQuery) -> exp.Expression:
    tz = timezone(ctx)
    options = query.pathsFilter
    rng = resolve_range(ctx, query.dateRange, "day")
    types = [expr(TYPE_CONDITIONS[t]) for t in options.includeEventTypes or []]
    excluded = list(options.excludeEvents or [])
    start, end = options.startPoint, options.endPoint
    mode = "both" if start is not None and end is not None else "start" if start is not None \
        else "end" if end is not None else "none"
    template = FROM_START.replace("{deduped}", DEDUPED)
    if mode != "none":
        keep, step, kept_item = KEEP[mode]
        template = (AROUND_POINTS.replace("{deduped}", DEDUPED).replace("{keep}", keep).replace("{step}", step)
                    .replace("{kept_item}", kept_item).replace("{end_at}", END_AT if mode == "both" else "{nowhere}"))
    limit = options.stepLimit or 5
    point = start if start is not None else end if end is not None else ""
    if mode != "both" and len(point) > 1 and point.endswith("/"):
        point = point[:-1]  # as PostHog does with a single point (page items lose one trailing "/")
    return select(
        template,
        item=expr(ITEM),
        url=expr(URL),
        date_from=date_range.to_utc(rng.window_from),
        date_to=date_range.to_utc(rng.date_to),
        condition=and_(
            series_.filters(global_properties(ctx, query), tz),
            exp.or_(*(exp.Paren(this=t) for t in types)) if types else None,
            expr("NOT has({excluded}, {item})", excluded=excluded, item=expr(EVENT_ITEM)) if excluded else None,
        ),
        gap=SESSION_GAP_US,
        point=point,
        end_point=end if mode == "both" else "",
        nowhere=NOWHERE,
        limit=limit,
        half=limit // 2,
    )


def actors(ctx: Runner, query: PathsQuery, point: ActorPoint) -> ActorSource:
    """The persons whose sessions take the edge ``pathStartKey`` -> ``pathEndKey`` (either alone:
    who leave from / arrive at that node), or end at ``pathDropoffKey``."""
    options = query.pathsFilter
    start, end, dropoff = options.pathStartKey, options.pathEndKey, options.pathDropoffKey
    if start is None and end is None and dropoff is None:
        raise ValidationError("Give pathStartKey, pathEndKey or pathDropoffKey", attr="pathsFilter")
    condition = and_(
        expr("source = {key} AND next_step > 0", key=start) if start is not None else None,
        expr("target = {key} AND next_step > 0", key=end) if end is not None else None,
        expr("source = {key} AND next_step = 0", key=dropoff) if dropoff is not None else None,
    )
    return ActorSource(tree=select(ACTORS, moves=_moves(ctx, query), condition=condition))


def run(ctx: Runner, query: PathsQuery) -> dict[str, Any]:
    """Compute a PathsQuery in PostHog's response shape."""
    options = query.pathsFilter
    rows, hogql = run_rows(ctx, select(EDGES, moves=_moves(ctx, query)))
    edges = [
        (source, target, weight, mean)
        for source, target, weight, mean in rows
        if (options.minEdgeWeight is None or weight >= options.minEdgeWeight)
        and (options.maxEdgeWeight is None or weight <= options.maxEdgeWeight)
    ]
    edges.sort(key=lambda e: (-e[2], e[0], e[1]))
    edges = edges[: options.edgeLimit or 50]
    reached: set[str] = set()
    results = []
    for source, target, weight, mean in sorted(edges, key=lambda e: (int(e[0].split("_", 1)[0]), -e[2], e[0], e[1])):
        if source.startswith("1_") or source in reached:
            reached.add(target)
            results.append({"source": source, "target": target, "value": weight, "average_conversion_time": mean})
    results.sort(key=lambda e: (-e["value"], e["source"], e["target"]))
    return {"results": results, "hogql": hogql, "error": None, "timings": ctx.timings}

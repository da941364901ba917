"""``PathsQuery``: the most common step-to-step moves through a product.

The engine returns each person's events in the range as a sorted array of (time, item), where
the item is the page (``$current_url``) for pageviews, the screen for ``$screen``, else the event
name. Here: items in ``excludeEvents`` are dropped, a person's events split into sessions at gaps
of 30 minutes or more, repeats of the same item in a row collapse, each session is cut to its
``startPoint``/``endPoint`` and to ``stepLimit`` items (the last ones before an ``endPoint``), and every move from position i to i+1
becomes an edge ``"<i>_<item>" -> "<i+1>_<item>"`` weighted by the sessions taking it, with the
mean time between the two events in milliseconds. Edges are filtered by weight, the heaviest
``edgeLimit`` kept, and only those reachable from a first step returned.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlglot import exp

from hedgerow.errors import ValidationError
from hedgerow.insights import date_range, series as series_
from hedgerow.insights.context import PER_PERSON_LIMITS, Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.models import PathsQuery
from hedgerow.insights.templates import and_, expr, select

SESSION_GAP_US = 30 * 60 * 1_000_000
EPOCH = dt.datetime(1970, 1, 1)
ITEM = "if(event = '$pageview', toString(properties.$current_url), if(event = '$screen', toString(properties.$screen_name), event))"
TYPE_CONDITIONS = {
    "$pageview": "event = '$pageview'",
    "$screen": "event = '$screen'",
    "custom_event": "NOT startsWith(event, '$')",
}


def _item(value: Any) -> str:
    text = "" if value is None else str(value)
    return text[:-1] if len(text) > 1 and text.endswith("/") else text


def _sessions(events: list[tuple[int, str]], excluded: set[str]) -> list[list[tuple[int, str]]]:
    sessions: list[list[tuple[int, str]]] = []
    previous_time = None
    for time_us, raw in events:
        item = _item(raw)
        if item in excluded:  # left out before sessions are split, like a filter on the events
            continue
        if previous_time is None or time_us - previous_time >= SESSION_GAP_US:
            sessions.append([])
        previous_time = time_us
        if sessions[-1] and sessions[-1][-1][1] == item:
            continue
        sessions[-1].append((time_us, item))
    return [s for s in sessions if s]


def _trim(session: list[tuple[int, str]], start: str | None, end: str | None, limit: int) -> list[tuple[int, str]]:
    if start is not None:
        at = next((i for i, (_, item) in enumerate(session) if item == start), None)
        if at is None:
            return []
        session = session[at:]
    if end is not None:
        at = next((i for i, (_, item) in enumerate(session) if item == end), None)
        if at is None:
            return []
        return session[: at + 1][-limit:]
    return session[:limit]


def run(ctx: Runner, query: PathsQuery) -> dict[str, Any]:
    """Compute a PathsQuery in PostHog's response shape."""
    tz = timezone(ctx)
    options = query.pathsFilter
    if options.startPoint is not None and options.endPoint is not None:
        # PostHog then keeps both ends of long paths around a "..." node; not computed here
        raise ValidationError("startPoint and endPoint together are not supported", attr="endPoint")
    rng = resolve_range(ctx, query.dateRange, "day")
    types = [expr(TYPE_CONDITIONS[t]) for t in options.includeEventTypes or []]
    tree = select(
        "SELECT person_id, arraySort(groupArray(tuple(dateDiff('microsecond', {epoch}, timestamp), {item})))"
        " FROM events WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition} GROUP BY person_id",
        epoch=EPOCH,
        item=expr(ITEM),
        date_from=date_range.to_utc(rng.window_from),
        date_to=date_range.to_utc(rng.date_to),
        condition=and_(series_.filters(global_properties(ctx, query), tz),
                       exp.or_(*(exp.Paren(this=t) for t in types)) if types else None),
    )
    rows, hogql = run_rows(ctx, tree, PER_PERSON_LIMITS)
    excluded = set(options.excludeEvents or [])
    limit = options.stepLimit or 5
    weights: dict[tuple[str, str], int] = defaultdict(int)
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    for _, events in rows:
        for session in _sessions([(int(t), item) for t, item in events], excluded):
            path = _trim(session, options.startPoint, options.endPoint, limit)
            for i in range(len(path) - 1):
                edge = (f"{i + 1}_{path[i][1]}", f"{i + 2}_{path[i + 1][1]}")
                weights[edge] += 1
                durations[edge].append(path[i + 1][0] - path[i][0])
    edges = [
        (source, target, weight)
        for (source, target), weight in weights.items()
        if (options.minEdgeWeight is None or weight >= options.minEdgeWeight)
        and (options.maxEdgeWeight is None or weight <= options.maxEdgeWeight)
    ]
    edges.sort(key=lambda e: (-e[2], e[0], e[1]))
    edges = edges[: options.edgeLimit or 50]
    reached: set[str] = set()
    results = []
    for source, target, weight in sorted(edges, key=lambda e: (int(e[0].split("_", 1)[0]), -e[2], e[0], e[1])):
        if source.startswith("1_") or source in reached:
            reached.add(target)
            times = durations[(source, target)]
            results.append({"source": source, "target": target, "value": weight,
                            "average_conversion_time": sum(times) / len(times) / 1000})
    results.sort(key=lambda e: (-e["value"], e["source"], e["target"]))
    return {"results": results, "hogql": hogql, "error": None, "timings": ctx.timings}



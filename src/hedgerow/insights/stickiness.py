"""``StickinessQuery``: for k = 1..N, how many actors were active in exactly k of the N
intervals of the range (N counted over the interval-aligned range).

An interval is active for an actor when they did the series' event in it, or, with
``stickinessCriteria``, when their count of such events there is >=, <= or == the given value.
``computedAs: cumulative`` turns bucket k into "k or more intervals".
"""

from __future__ import annotations

from typing import Any

from hedgerow.insights import date_range, series as series_
from hedgerow.insights.context import Runner, global_properties, resolve_range, run_rows, timezone
from hedgerow.insights.models import StickinessQuery
from hedgerow.insights.templates import expr, select
from hedgerow.insights.trends import BUCKETS


CRITERIA = {"gte": "events >= {value}", "lte": "events <= {value}", "exact": "events = {value}"}


def _criterion(query: StickinessQuery) -> Any:
    criteria = query.stickinessFilter.stickinessCriteria  # type: ignore[union-attr]
    return expr(CRITERIA[criteria.operator], value=criteria.value)


def _label(k: int, interval: str) -> str:
    return f"{k} {interval}{'' if k == 1 else 's'}"


def run(ctx: Runner, query: StickinessQuery) -> dict[str, Any]:
    """Compute a StickinessQuery in PostHog's response shape."""
    tz = timezone(ctx)
    interval = query.interval or "day"
    rng = resolve_range(ctx, query.dateRange, interval)
    intervals = len(rng.buckets)
    options = query.stickinessFilter
    cumulative = bool(options and options.computedAs == "cumulative")
    results, hogql = [], []
    for order, node in enumerate(query.series):
        holes = {
            "bucket": expr(BUCKETS[interval]),
            "date_from": date_range.to_utc(date_range.start_of(rng.date_from, interval, rng.week_start_day)),
            "date_to": date_range.to_utc(rng.date_to),
            "condition": series_.condition(node, global_properties(ctx, query), tz),
        }
        if options is None or options.stickinessCriteria is None:
            tree = select(
                "SELECT active, count() FROM (SELECT person_id, count(DISTINCT {bucket}) AS active FROM events"
                " WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition} GROUP BY person_id)"
                " GROUP BY active",
                **holes,
            )
        else:
            tree = select(
                "SELECT active, count() FROM (SELECT person_id, countIf({criterion}) AS active FROM ("
                " SELECT person_id, {bucket} AS bucket, count() AS events FROM events"
                " WHERE timestamp >= {date_from} AND timestamp <= {date_to} AND {condition} GROUP BY person_id, bucket)"
                " GROUP BY person_id) WHERE active > 0 GROUP BY active",
                criterion=_criterion(query),
                **holes,
            )
        rows, text = run_rows(ctx, tree)
        hogql.append(text)
        by_active = {int(active): actors for active, actors in rows}
        data = [by_active.get(k, 0) for k in range(1, intervals + 1)]
        count = sum(data)
        if cumulative:
            data = [sum(data[k:]) for k in range(len(data))]
        results.append({
            "count": count,
            "data": data,
            "days": list(range(1, intervals + 1)),
            "labels": [_label(k, interval) + (" or more" if cumulative else "") for k in range(1, intervals + 1)],
            "label": series_.label(node),
            "action": {"order": order, "type": series_.node_type(node), "name": series_.label(node),
                       "id": series_.node_id(node),
                       "custom_name": node.custom_name, "math": node.math},
        })
    return {"results": results, "hogql": "\n\n".join(hogql), "error": None, "timings": ctx.timings}
